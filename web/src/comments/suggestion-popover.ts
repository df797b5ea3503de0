/**
 * Deciding a suggestion at the text (issue 16): a click on a suggestion drawn in the
 * text, or Enter with the caret in it, opens this small popover beside it, so an owner
 * accepts or rejects it where it is read, as in Word's track changes, without going to
 * the margin.
 *
 * A suggestion whose text changed since it was made is never accepted in one step. The
 * popover first shows what it was proposed against ("Föreslaget mot") and what stands
 * now ("Står nu"), under their own headings, and offers "Godkänn ändå", which confirms
 * the text as shown (`expectedQuote`, the same API the thread card uses). The server
 * checks again: if the text moved once more, it answers 409 and the popover shows the new
 * text. A suggestion that turns conflicting between opening and accepting gets the same
 * 409, and the popover switches to the comparison instead of applying anything.
 *
 * It is a non-modal `role=dialog` labelled by its heading: focus moves into it, Escape
 * or "Stäng" closes it and puts focus back in the text where it was; so does a decision.
 */
import { ApiError } from '../api/client';
import { describeError } from '../api/errors';
import type { Thread } from '../api/types';
import { h, uid } from '../dom';
import { t } from '../i18n';

/** What the popover needs of the page. */
export interface PopoverContext {
  /** The suggestion as the thread list knows it now. */
  thread: Thread;
  /** Owners decide; everyone else only reads. */
  canDecide: boolean;
  /** Accepts (with the confirmed current text, if any) or rejects; returns the thread. */
  decide: (decision: 'accept' | 'reject', expectedQuote?: string) => Promise<Thread>;
  /** Takes the decided thread into the page's list. */
  receive: (thread: Thread) => void;
  /** Puts focus back in the text. */
  returnFocus: () => void;
  /** Says something to screen readers (and in the status line). */
  say: (message: string) => void;
}

let open: { close: () => void } | null = null;

/** Closes the open popover, if any, without moving focus. */
export function closeSuggestionPopover(): void {
  open?.close();
}

/** Opens the popover for `ctx.thread` at `at` (viewport coordinates of the text). */
export function openSuggestionPopover(
  ctx: PopoverContext,
  at: { left: number; top: number; bottom: number },
): void {
  open?.close();
  const { thread } = ctx;
  const titleId = uid('suggestion-popover-title');
  const status = h('p', { class: 'suggestion-popover__status', role: 'status' });
  const body = h('div', { class: 'suggestion-popover__body' });
  const actions = h('div', { class: 'form-actions' });
  const popover = h(
    'div',
    {
      class: 'suggestion-popover',
      role: 'dialog',
      'aria-labelledby': titleId,
      'data-testid': 'suggestion-popover',
      'data-thread-id': thread.id,
    },
    h(
      'h2',
      { id: titleId, class: 'suggestion-popover__title' },
      t('suggest.popover.title', { name: thread.authorName, org: thread.orgName }),
    ),
    body,
    status,
    actions,
  );

  let closed = false;
  const close = (refocus: boolean) => {
    if (closed) return;
    closed = true;
    open = null;
    document.removeEventListener('mousedown', onOutside, true);
    popover.remove();
    if (refocus) ctx.returnFocus();
  };
  const onOutside = (event: MouseEvent) => {
    if (!popover.contains(event.target as Node)) close(false);
  };
  popover.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      close(true);
    }
  });

  const button = (label: string, testId: string, primary: boolean, run: () => void) => {
    const el = h(
      'button',
      {
        type: 'button',
        class: primary ? 'button button--primary button--small' : 'button button--small',
        'data-testid': testId,
      },
      label,
    );
    el.addEventListener('click', run);
    return el;
  };
  const closeButton = () =>
    button(t('suggest.popover.close'), 'suggestion-popover-close', false, () => close(true));

  const decide = async (decision: 'accept' | 'reject', expectedQuote?: string) => {
    for (const el of actions.querySelectorAll('button')) el.disabled = true;
    status.textContent = t('suggest.popover.working');
    try {
      const decided = await ctx.decide(decision, expectedQuote);
      ctx.receive(decided);
      ctx.say(
        decision === 'accept' ? t('suggest.popover.accepted') : t('suggest.popover.rejected'),
      );
      close(true);
    } catch (error) {
      const details = error instanceof ApiError ? error.details : {};
      const quote = (details as { quote?: unknown }).quote;
      const original = (details as { originalQuote?: unknown }).originalQuote;
      if (
        error instanceof ApiError &&
        error.code === 'anchor_changed' &&
        typeof quote === 'string' &&
        typeof original === 'string'
      ) {
        // Changed meanwhile (or again): compare first, never apply blindly.
        showConflict(original, quote, expectedQuote !== undefined);
        return;
      }
      status.textContent = t('comments.actionFailed', { message: describeError(error) });
      for (const el of actions.querySelectorAll('button')) el.disabled = false;
    }
  };

  const wording = (label: string, text: string, testId: string) => {
    const id = uid('wording');
    return h(
      'section',
      { class: 'suggestion-popover__wording', 'aria-labelledby': id },
      h('h3', { id, class: 'wordings__label' }, label),
      h('p', { class: 'wordings__text', lang: 'sv', 'data-testid': testId }, text),
    );
  };
  const proposal = thread.proposal ?? '';
  const change = () =>
    h(
      'dl',
      { class: 'suggestion-popover__change' },
      thread.anchor.originalQuote
        ? [
            h('dt', {}, t('suggest.popover.removes')),
            h(
              'dd',
              { lang: 'sv', 'data-testid': 'suggestion-removes' },
              thread.anchor.originalQuote,
            ),
          ]
        : null,
      proposal
        ? [
            h('dt', {}, t('suggest.popover.inserts')),
            h('dd', { lang: 'sv', 'data-testid': 'suggestion-inserts' }, proposal),
          ]
        : null,
    );

  /** Beside the text: below it, or above when there is no room below; kept on screen. */
  const place = () => {
    const width = popover.offsetWidth;
    const height = popover.offsetHeight;
    popover.style.left = `${Math.max(8, Math.min(at.left, window.innerWidth - width - 8))}px`;
    const below = at.bottom + 6;
    const above = at.top - height - 6;
    const top = below + height <= window.innerHeight - 8 ? below : Math.max(8, above);
    popover.style.top = `${top}px`;
  };

  const showPlain = () => {
    body.replaceChildren(change());
    const rows: HTMLElement[] = [];
    if (ctx.canDecide) {
      rows.push(
        button(t('suggest.popover.accept'), 'suggestion-popover-accept', true, () => {
          void decide('accept');
        }),
        button(t('suggest.popover.reject'), 'suggestion-popover-reject', false, () => {
          void decide('reject');
        }),
      );
    }
    rows.push(closeButton());
    actions.replaceChildren(...rows);
    place();
    rows[0]?.focus();
  };

  /** The conflict view: both texts, and the explicit step before accepting. */
  const showConflict = (original: string, current: string, again: boolean) => {
    body.replaceChildren(
      h(
        'p',
        { class: 'suggestion-popover__conflict', 'data-testid': 'suggestion-popover-conflict' },
        t('suggest.conflictLabel'),
      ),
      ...(again ? [h('p', { role: 'alert' }, t('proposal.dialog.changedAgain'))] : []),
      wording(t('suggest.popover.proposedAgainst'), original, 'suggestion-proposed-against'),
      wording(t('suggest.popover.standsNow'), current, 'suggestion-stands-now'),
      proposal
        ? wording(t('comments.wording.proposed'), proposal, 'suggestion-proposed')
        : h('p', {}, t('suggest.popover.deletes')),
    );
    status.textContent = '';
    const rows: HTMLElement[] = [];
    if (ctx.canDecide) {
      rows.push(
        button(t('suggest.popover.acceptAnyway'), 'suggestion-popover-accept-anyway', true, () => {
          void decide('accept', current);
        }),
        button(t('suggest.popover.reject'), 'suggestion-popover-reject', false, () => {
          void decide('reject');
        }),
      );
    }
    rows.push(closeButton());
    actions.replaceChildren(...rows);
    place();
    // Focus the heading of the comparison first: the owner reads before deciding.
    const heading = body.querySelector('h3');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    } else rows[0]?.focus();
  };

  // Inside the page's main landmark, so it is read as part of the document's content.
  (document.querySelector('main') ?? document.body).append(popover);
  document.addEventListener('mousedown', onOutside, true);
  open = { close: () => close(false) };
  if (thread.anchor.state === 'changed') {
    showConflict(thread.anchor.originalQuote, thread.anchor.quote, false);
  } else {
    showPlain();
  }
}

/**
 * One thread in the margin: who, stance, the quoted text (or a proposal as before/after),
 * the original wording beside the current one whenever the text has changed since the
 * thread was opened (or it was moved),
 * the comments with edit/delete for one's own, the resolution, a reply form, and the
 * owner's actions (resolve with outcome and motivation, reopen, accept or reject a
 * proposal). Bodies are plain text: they go in as text nodes, never as markup.
 *
 * The card keeps its element and its open forms across updates; only the display part
 * is redrawn when the thread changes, so a live event never eats what someone is typing.
 * Only the active card is open; the others show a one-line summary (a disclosure button
 * in the heading), so the margin stays short enough to sit beside the text.
 */
import { ApiError } from '../api/client';
import { describeError } from '../api/errors';
import { OUTCOMES, type Outcome, type Role, type Thread, type ThreadComment } from '../api/types';
import { announce } from '../app/announce';
import { h, replaceChildren, uid } from '../dom';
import { formatDateTime, type MessageKey, t, tCount } from '../i18n';
import { followThreadButton } from './following';
import { keptText } from './kept-text';
import { mentionField, renderMentions } from './mentions';
import { confirmChangedText, conflictWordings } from './proposal-dialog';
import type { ThreadStore } from './store';

export interface CardContext {
  store: ThreadStore;
  selfId: string;
  role: () => Role | null;
  /** Scrolls to the thread's text, selects it and focuses the editor. */
  showInText(thread: Thread, returnTo: HTMLElement): void;
  /** Opens the card (making its thread the active one) or closes it. */
  toggle(thread: Thread): void;
  /** Anchors an orphaned thread to the editor's selection. */
  reanchor(thread: Thread): Promise<Thread>;
  /** True when the remiss round takes no new remarks (replies only from owners). */
  closed(): boolean;
}

export function stanceLabel(stance: Thread['stance']): string {
  return stance ? t(`stance.${stance}` as MessageKey) : t('comments.compose.noStance');
}

export class ThreadCard {
  readonly el: HTMLElement;
  private readonly display = h('div', { class: 'thread__display' });
  private readonly actions = h('div', { class: 'thread__actions' });
  private readonly status = h('p', { class: 'thread__status', role: 'status' });
  private readonly bodyId = uid('thread-body');
  private readonly headingId = uid('thread-heading');
  private readonly toggle = h('button', {
    type: 'button',
    class: 'thread__toggle',
    'aria-expanded': 'false',
    'aria-controls': this.bodyId,
    'data-testid': 'thread-toggle',
  });
  private readonly body = h(
    'div',
    { id: this.bodyId, class: 'thread__body', hidden: true },
    this.display,
    this.actions,
    this.status,
  );
  private actionsKey = '';
  private editing: { commentId: string; draft: string } | null = null;

  constructor(
    private thread: Thread,
    private readonly ctx: CardContext,
  ) {
    this.toggle.addEventListener('click', () => this.ctx.toggle(this.thread));
    this.el = h(
      'article',
      {
        class: 'thread',
        'aria-labelledby': this.headingId,
        'data-thread-id': thread.id,
        'data-testid': 'thread',
        tabindex: '-1',
      },
      h('h3', { id: this.headingId, class: 'thread__heading' }, this.toggle),
      this.body,
    );
    this.body.prepend(
      h('p', { class: 'thread__follow' }, followThreadButton(ctx.store.following, thread.id)),
    );
    this.update(thread);
  }

  get id(): string {
    return this.thread.id;
  }

  /** The document's members matching an @-prefix, for the comment fields' autocomplete. */
  private readonly searchMentions = (q: string) =>
    this.ctx.store.api.mentionable(this.ctx.store.docId, q);

  /** Shows `thread`; a no-op for the very object already shown. */
  update(thread: Thread): void {
    if (thread === this.thread && this.actionsKey) return;
    this.thread = thread;
    this.redraw();
  }

  private redraw(): void {
    const thread = this.thread;
    const focused = document.activeElement as HTMLElement | null;
    const refocus =
      focused && this.display.contains(focused) ? focused.dataset.focusKey : undefined;
    this.el.dataset.status = thread.status;
    this.el.dataset.anchorState = thread.anchor.state;
    this.el.classList.toggle('thread--resolved', thread.status === 'resolved');
    replaceChildren(this.toggle, this.renderSummary());
    replaceChildren(this.display, this.renderDisplay());
    if (refocus) this.display.querySelector<HTMLElement>(`[data-focus-key="${refocus}"]`)?.focus();
    const role = this.ctx.role();
    const key = `${thread.status}|${thread.proposal ?? ''}|${role}|${this.ctx.closed()}`;
    if (key !== this.actionsKey) {
      this.actionsKey = key;
      const hadFocus = focused !== null && this.actions.contains(focused);
      // A reply being written when the round closes stays visible (not sent, not lost).
      const pending =
        this.actions.querySelector<HTMLTextAreaElement>('.thread__reply-text')?.value.trim() ?? '';
      replaceChildren(this.actions, this.renderActions(pending));
      if (hadFocus) this.actions.querySelector<HTMLElement>('button')?.focus();
    }
  }

  /** Draws the card again (e.g. when the round closed: the reply form gives way to a note). */
  refresh(): void {
    this.redraw();
  }

  get expanded(): boolean {
    return !this.body.hidden;
  }

  /** The active card is the open one. */
  setActive(active: boolean): void {
    // Opening a thread follows it, unless the user chose not to.
    if (active && this.body.hidden) void this.ctx.store.following.opened(this.thread.id);
    this.el.classList.toggle('thread--active', active);
    this.toggle.setAttribute('aria-expanded', String(active));
    this.body.hidden = !active;
  }

  private say(message: string): void {
    this.status.textContent = message;
    announce(message);
  }

  private async run(
    action: () => Promise<Thread>,
    done: string,
    context?: Partial<Record<string, MessageKey>>,
  ): Promise<boolean> {
    try {
      const thread = await action();
      this.ctx.store.receive(thread);
      this.say(done);
      return true;
    } catch (error) {
      this.say(t('comments.actionFailed', { message: describeError(error, context) }));
      return false;
    }
  }

  /**
   * The summary shown when the card is closed: who and how many replies, then stance,
   * status and the first words of the comment, each line cut to the margin's width.
   */
  private renderSummary(): Node[] {
    const thread = this.thread;
    const first = thread.comments.find((c) => !c.deleted);
    const replies = thread.comments.length - 1;
    return [
      h(
        'span',
        { class: 'thread__line' },
        h('span', { class: 'thread__org' }, thread.orgName),
        replies > 0
          ? h(
              'span',
              { class: 'thread__replies' },
              ` · ${tCount('comments.thread.replies', replies)}`,
            )
          : null,
      ),
      h(
        'span',
        { class: 'thread__line' },
        // Closed, only what stands out: a stance taken, a thread resolved.
        h(
          'span',
          { class: `badge badge--stance${thread.stance ? '' : ' thread__quiet'}` },
          stanceLabel(thread.stance),
        ),
        ' ',
        h(
          'span',
          {
            class: `badge badge--${thread.status}${thread.status === 'open' ? ' thread__quiet' : ''}`,
          },
          t(thread.status === 'open' ? 'comments.status.open' : 'comments.status.resolved'),
        ),
        ' ',
        h('span', { class: 'thread__excerpt', lang: 'sv' }, first?.body ?? ''),
      ),
    ];
  }

  private renderDisplay(): Node[] {
    const thread = this.thread;
    const orphaned = thread.anchor.state === 'orphaned';
    const nodes: Node[] = [];
    const quote = orphaned ? thread.anchor.originalQuote : thread.anchor.quote;
    // A thread moved to other text reads `attached` against its new quote, but the
    // record still holds what it was opened on: show both whenever they differ.
    const differs = !orphaned && thread.anchor.quote !== thread.anchor.originalQuote;
    if (differs) nodes.push(this.renderWordings());
    if (thread.proposal !== null && !orphaned) {
      nodes.push(
        h(
          'div',
          { class: 'proposal', 'data-testid': 'proposal' },
          h('p', { class: 'proposal__title' }, t('comments.proposal.title')),
          h(
            'p',
            { class: 'proposal__diff', lang: 'sv' },
            h(
              'del',
              { class: 'proposal__before' },
              h('span', { class: 'visually-hidden' }, `${t('comments.proposal.before')}: `),
              quote,
            ),
            ' ',
            h(
              'ins',
              { class: 'proposal__after' },
              h('span', { class: 'visually-hidden' }, `${t('comments.proposal.after')}: `),
              thread.proposal,
            ),
          ),
        ),
      );
    } else if (!differs) {
      nodes.push(
        h(
          'figure',
          { class: 'thread__quote' },
          h(
            'figcaption',
            { class: 'visually-hidden' },
            t(orphaned ? 'comments.thread.originalQuote' : 'comments.thread.quote'),
          ),
          h('blockquote', { lang: 'sv', 'data-testid': 'thread-quote' }, quote),
        ),
      );
    }
    if (thread.anchor.state === 'changed' && thread.status === 'open') {
      nodes.push(h('p', { class: 'thread__note' }, t('comments.thread.changed')));
    }
    if (thread.namedVersion) {
      nodes.push(
        h(
          'p',
          { class: 'thread__version muted', 'data-testid': 'thread-version' },
          t('comments.thread.version', { name: thread.namedVersion.name }),
        ),
      );
    }
    if (orphaned && this.mayMove()) nodes.push(this.renderReanchor());
    if (!orphaned) {
      const show = h(
        'button',
        {
          type: 'button',
          class: 'button button--small button--link',
          'aria-label': t('comments.thread.showLabel', { org: thread.orgName }),
          'data-focus-key': 'show',
        },
        t('comments.thread.show'),
      );
      show.addEventListener('click', () => this.ctx.showInText(this.thread, show));
      nodes.push(h('p', { class: 'thread__show' }, show));
    }
    nodes.push(
      h(
        'ol',
        { class: 'thread__comments' },
        thread.comments.map((c) => this.renderComment(c)),
      ),
    );
    if (thread.resolution) {
      const r = thread.resolution;
      nodes.push(
        h(
          'div',
          { class: 'resolution', 'data-testid': 'resolution' },
          h(
            'p',
            { class: 'resolution__title' },
            t('comments.resolution.title', { outcome: t(`outcome.${r.outcome}` as MessageKey) }),
          ),
          h('p', { class: 'resolution__motivation' }, r.motivation),
          h(
            'p',
            { class: 'resolution__by muted' },
            t('comments.resolution.by', {
              name: r.resolvedByName,
              time: formatDateTime(r.resolvedAt),
            }),
          ),
        ),
      );
    }
    return nodes;
  }

  /** The wording the thread was opened on and the wording now, each under its label. */
  private renderWordings(): HTMLElement {
    const { quote, originalQuote } = this.thread.anchor;
    const entry = (label: string, text: string, testId: string) =>
      h(
        'div',
        { class: 'wordings__column' },
        h('dt', { class: 'wordings__label' }, label),
        h('dd', { class: 'wordings__text', lang: 'sv', 'data-testid': testId }, text),
      );
    return h(
      'figure',
      { class: 'thread__wordings', 'data-testid': 'thread-wordings' },
      h('figcaption', { class: 'visually-hidden' }, t('comments.wording.caption')),
      h(
        'dl',
        { class: 'wordings wordings--stacked' },
        entry(t('comments.wording.original'), originalQuote, 'wording-original'),
        entry(t('comments.wording.current'), quote, 'wording-current'),
      ),
    );
  }

  /**
   * Accepts the proposal. When the server answers `anchor_changed`, the owner compares the
   * wordings and may accept anyway, which confirms the current text (`expectedQuote`); if
   * it changed once more meanwhile, the owner is asked again with the new text.
   */
  private async acceptProposal(motivation: string, opener: HTMLElement): Promise<void> {
    const { api, docId } = this.ctx.store;
    let expectedQuote: string | undefined;
    for (;;) {
      try {
        const thread = await api.decideProposal(
          docId,
          this.thread.id,
          'accept',
          motivation,
          expectedQuote,
        );
        this.ctx.store.receive(thread);
        this.say(t('comments.resolve.done'));
        return;
      } catch (error) {
        const wordings =
          error instanceof ApiError && error.code === 'anchor_changed'
            ? conflictWordings(error.details, this.thread.proposal ?? '')
            : null;
        if (!wordings) {
          this.say(t('comments.actionFailed', { message: describeError(error) }));
          return;
        }
        // The card may still show the text as it was when it was loaded.
        void this.ctx.store.reload();
        const again = expectedQuote !== undefined;
        if (!(await confirmChangedText(wordings, opener, again))) {
          this.say(t('proposal.dialog.cancelled'));
          return;
        }
        expectedQuote = wordings.current;
      }
    }
  }

  private mayMove(): boolean {
    return this.ctx.role() === 'owner' || this.thread.author === this.ctx.selfId;
  }

  private renderReanchor(): HTMLElement {
    const button = h(
      'button',
      {
        type: 'button',
        class: 'button button--small',
        'data-focus-key': 'reanchor',
        'aria-describedby': `${this.bodyId}-reanchor-hint`,
      },
      t('comments.reanchor.button'),
    );
    // Keep the editor's selection when the button is pressed with a mouse.
    button.addEventListener('mousedown', (event) => event.preventDefault());
    button.addEventListener('click', () => {
      void this.run(() => this.ctx.reanchor(this.thread), t('comments.reanchor.done'), {
        unprocessable: 'comments.reanchor.unusable',
      }).then((ok) => {
        if (ok) this.toggle.focus();
      });
    });
    return h(
      'div',
      { class: 'thread__reanchor' },
      h('p', { id: `${this.bodyId}-reanchor-hint`, class: 'hint' }, t('comments.reanchor.hint')),
      button,
    );
  }

  private renderComment(comment: ThreadComment): HTMLElement {
    // A sealed comment (its thread was decided) is part of the record: the server refuses
    // changes with 409 thread_resolved, so the card offers none.
    const own = comment.author === this.ctx.selfId && !comment.deleted && !comment.sealed;
    const meta = h(
      'p',
      { class: 'comment__meta' },
      h('span', { class: 'comment__author' }, `${comment.authorName} (${comment.orgName})`),
      ' · ',
      h(
        'time',
        { datetime: new Date(comment.createdAt).toISOString() },
        formatDateTime(comment.createdAt),
      ),
      comment.editedAt !== null && !comment.deleted ? ` · ${t('comments.comment.edited')}` : '',
    );
    if (comment.deleted) {
      return h(
        'li',
        { class: 'comment comment--deleted' },
        meta,
        h('p', { class: 'comment__body muted' }, t('comments.comment.deleted')),
      );
    }
    if (own && this.editing?.commentId === comment.id) {
      return h('li', { class: 'comment' }, meta, this.renderEditForm(comment));
    }
    const li = h(
      'li',
      { class: 'comment', 'data-testid': 'comment' },
      meta,
      h(
        'p',
        { class: 'comment__body', lang: 'sv' },
        renderMentions(comment.body, comment.mentions),
      ),
    );
    if (own && !this.frozen()) {
      const edit = h(
        'button',
        { type: 'button', class: 'button button--small', 'data-focus-key': `edit-${comment.id}` },
        t('comments.comment.edit'),
      );
      edit.addEventListener('click', () => {
        this.editing = { commentId: comment.id, draft: comment.body };
        this.redraw();
        this.display.querySelector<HTMLTextAreaElement>('textarea')?.focus();
      });
      const remove = h(
        'button',
        {
          type: 'button',
          class: 'button button--small button--danger',
          'data-focus-key': `delete-${comment.id}`,
        },
        t('comments.comment.delete'),
      );
      remove.addEventListener('click', () => {
        if (!window.confirm(t('comments.comment.confirmDelete'))) return;
        void this.run(
          () => this.ctx.store.api.deleteComment(this.ctx.store.docId, this.thread.id, comment.id),
          t('comments.comment.removed'),
        ).then(() => this.el.focus());
      });
      li.append(h('div', { class: 'comment__tools' }, edit, remove));
    }
    return li;
  }

  private renderEditForm(comment: ThreadComment): HTMLElement {
    const id = uid('edit');
    const editing = this.editing as { commentId: string; draft: string };
    const area = h('textarea', {
      id,
      rows: 3,
      'aria-required': 'true',
      'data-focus-key': `area-${comment.id}`,
    });
    area.value = editing.draft;
    area.addEventListener('input', () => {
      editing.draft = area.value;
    });
    const mentions = mentionField(area, this.searchMentions, comment.mentions);
    // Closed while editing: the wording stays, read-only, and cannot be saved.
    const frozen = this.frozen();
    area.readOnly = frozen;
    const save = h(
      'button',
      { type: 'submit', class: 'button button--small button--primary', disabled: frozen },
      t('comments.comment.save'),
    );
    const form = h(
      'form',
      { class: 'comment__edit' },
      h('label', { for: id }, t('comments.comment.editLabel')),
      frozen ? h('p', { class: 'hint thread__closed' }, t('comments.closedEdit')) : null,
      area,
      mentions.listbox,
      h(
        'div',
        { class: 'form-actions' },
        save,
        h(
          'button',
          {
            type: 'button',
            class: 'button button--small',
            onclick: () => {
              this.editing = null;
              this.redraw();
              this.display
                .querySelector<HTMLElement>(`[data-focus-key="edit-${comment.id}"]`)
                ?.focus();
            },
          },
          t('comments.comment.cancel'),
        ),
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const body = area.value.trim();
      if (!body) {
        area.focus();
        return;
      }
      void this.run(
        () =>
          this.ctx.store.api.editComment(
            this.ctx.store.docId,
            this.thread.id,
            comment.id,
            body,
            mentions.mentions(),
          ),
        t('comments.comment.saved'),
      ).then((ok) => {
        if (!ok) return;
        this.editing = null;
        this.redraw();
        this.display.querySelector<HTMLElement>(`[data-focus-key="edit-${comment.id}"]`)?.focus();
      });
    });
    return form;
  }

  /** Whether the round is closed to this user's replies and edits (owners go on). */
  private frozen(): boolean {
    return this.ctx.closed() && this.ctx.role() !== 'owner';
  }

  private renderActions(pending = ''): Node[] {
    const role = this.ctx.role();
    if (role === null || role === 'viewer') return [];
    const nodes: Node[] = [];
    if (this.thread.status === 'open') {
      nodes.push(
        this.frozen()
          ? h(
              'div',
              {},
              h('p', { class: 'hint thread__closed' }, t('comments.closedReply')),
              pending ? keptText(t('comments.keptReply'), pending) : null,
            )
          : this.renderReply(),
      );
    }
    if (role === 'owner') nodes.push(this.renderOwner());
    return nodes;
  }

  private renderReply(): HTMLElement {
    const id = uid('reply');
    const hintId = uid('reply-hint');
    const area = h('textarea', {
      id,
      rows: 2,
      class: 'thread__reply-text',
      'aria-describedby': hintId,
    });
    const mentions = mentionField(area, this.searchMentions);
    const form = h(
      'form',
      { class: 'thread__reply mention-field' },
      h('label', { for: id }, t('comments.replyLabel')),
      h('p', { id: hintId, class: 'hint' }, t('mention.hint')),
      area,
      mentions.listbox,
      h('button', { type: 'submit', class: 'button button--small' }, t('comments.replySubmit')),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const body = area.value.trim();
      if (!body) {
        area.focus();
        return;
      }
      void this.run(
        () =>
          this.ctx.store.api.reply(this.ctx.store.docId, this.thread.id, body, mentions.mentions()),
        t('comments.replied'),
      ).then((ok) => {
        if (!ok) return;
        area.value = '';
        mentions.reset();
      });
    });
    return form;
  }

  private renderOwner(): HTMLElement {
    if (this.thread.status === 'resolved') {
      const reopen = h(
        'button',
        { type: 'button', class: 'button button--small' },
        t('comments.resolve.reopen'),
      );
      reopen.addEventListener('click', () => {
        void this.run(
          () => this.ctx.store.api.reopen(this.ctx.store.docId, this.thread.id),
          t('comments.resolve.reopened'),
        );
      });
      return h('div', { class: 'thread__owner' }, reopen);
    }
    const outcomeId = uid('outcome');
    const motivationId = uid('motivation');
    const errorId = uid('motivation-error');
    const outcome = h(
      'select',
      { id: outcomeId },
      OUTCOMES.map((o) => h('option', { value: o }, t(`outcome.${o}` as MessageKey))),
    );
    const motivation = h('textarea', { id: motivationId, rows: 2 });
    const error = h('p', { id: errorId, class: 'field-error', hidden: true });
    const needMotivation = (): string | null => {
      const text = motivation.value.trim();
      error.hidden = Boolean(text);
      error.textContent = text ? '' : t('comments.resolve.motivationMissing');
      if (text) motivation.removeAttribute('aria-invalid');
      else {
        motivation.setAttribute('aria-invalid', 'true');
        motivation.setAttribute('aria-describedby', errorId);
        motivation.focus();
      }
      return text || null;
    };
    const resolve = h(
      'button',
      { type: 'submit', class: 'button button--small button--primary' },
      t('comments.resolve.submit'),
    );
    const buttons: HTMLElement[] = [resolve];
    if (this.thread.proposal !== null) {
      for (const decision of ['accept', 'reject'] as const) {
        const button = h(
          'button',
          { type: 'button', class: 'button button--small' },
          t(decision === 'accept' ? 'comments.resolve.accept' : 'comments.resolve.reject'),
        );
        button.addEventListener('click', () => {
          const text = needMotivation();
          if (!text) return;
          if (decision === 'accept') {
            void this.acceptProposal(text, button);
            return;
          }
          void this.run(
            () =>
              this.ctx.store.api.decideProposal(
                this.ctx.store.docId,
                this.thread.id,
                decision,
                text,
              ),
            t('comments.resolve.done'),
          );
        });
        buttons.push(button);
      }
    }
    const form = h(
      'form',
      { class: 'thread__owner' },
      h(
        'fieldset',
        {},
        h('legend', {}, t('comments.manage')),
        h('label', { for: outcomeId }, t('comments.resolve.outcome')),
        outcome,
        h('label', { for: motivationId }, t('comments.resolve.motivation')),
        motivation,
        error,
        h('div', { class: 'form-actions' }, buttons),
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = needMotivation();
      if (!text) return;
      void this.run(
        () =>
          this.ctx.store.api.resolve(
            this.ctx.store.docId,
            this.thread.id,
            outcome.value as Outcome,
            text,
          ),
        t('comments.resolve.done'),
      );
    });
    return form;
  }
}

/**
 * Asking the owner before a proposal replaces text that has changed since it was made.
 *
 * The server refuses to apply such a proposal blindly (409 `anchor_changed`): the owner
 * decided on one wording and the document now holds another, so accepting could leave
 * fragments of both. This dialog shows the original, current and proposed wordings side
 * by side, each under its own heading (never told apart by colour alone), and resolves to
 * whether the owner accepts anyway. It is a native modal `<dialog>`: the page behind it
 * is inert, Escape closes it as Cancel, focus starts on Cancel (the safe choice) and goes
 * back to the button that opened it.
 */
import type { AnchorConflict } from '../api/types';
import { h, uid } from '../dom';
import { t } from '../i18n';

/** The three wordings the owner compares. */
export interface Wordings {
  original: string;
  current: string;
  proposed: string;
}

/** The wordings of an `anchor_changed` answer, or null when `details` is not one. */
export function conflictWordings(
  details: Record<string, unknown>,
  proposed: string,
): Wordings | null {
  const conflict = details as Partial<AnchorConflict>;
  if (typeof conflict.quote !== 'string' || typeof conflict.originalQuote !== 'string') {
    return null;
  }
  return { original: conflict.originalQuote, current: conflict.quote, proposed };
}

function column(label: string, text: string, testId: string): HTMLElement {
  const id = uid('wording');
  return h(
    'section',
    { class: 'wordings__column', 'aria-labelledby': id },
    h('h3', { id, class: 'wordings__label' }, label),
    h('p', { class: 'wordings__text', lang: 'sv', 'data-testid': testId }, text),
  );
}

/**
 * Shows the wordings and waits for the owner: true for "accept anyway", false for
 * Cancel or Escape. `changedAgain` says the text moved once more since the last look.
 */
export function confirmChangedText(
  wordings: Wordings,
  returnFocus: HTMLElement,
  changedAgain = false,
): Promise<boolean> {
  const titleId = uid('proposal-dialog-title');
  const introId = uid('proposal-dialog-intro');
  const cancel = h(
    'button',
    { type: 'button', class: 'button', 'data-testid': 'proposal-dialog-cancel' },
    t('proposal.dialog.cancel'),
  );
  const accept = h(
    'button',
    { type: 'button', class: 'button button--primary', 'data-testid': 'proposal-dialog-accept' },
    t('proposal.dialog.acceptAnyway'),
  );
  const dialog = h(
    'dialog',
    {
      class: 'proposal-dialog',
      'aria-labelledby': titleId,
      'aria-describedby': introId,
      'data-testid': 'proposal-dialog',
    },
    h('h2', { id: titleId, class: 'proposal-dialog__title' }, t('proposal.dialog.title')),
    changedAgain
      ? h(
          'p',
          { class: 'proposal-dialog__again', role: 'alert' },
          t('proposal.dialog.changedAgain'),
        )
      : null,
    h('p', { id: introId }, t('proposal.dialog.intro')),
    h(
      'div',
      { class: 'wordings' },
      column(t('comments.wording.original'), wordings.original, 'wording-original'),
      column(t('comments.wording.current'), wordings.current, 'wording-current'),
      column(t('comments.wording.proposed'), wordings.proposed, 'wording-proposed'),
    ),
    h('div', { class: 'form-actions' }, accept, cancel),
  );
  return new Promise((resolve) => {
    let accepted = false;
    accept.addEventListener('click', () => {
      accepted = true;
      dialog.close();
    });
    cancel.addEventListener('click', () => dialog.close());
    // Escape fires `cancel` and then `close`; every way out ends in `close`.
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (returnFocus.isConnected) returnFocus.focus();
      resolve(accepted);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * The form for a new thread: the selected text (quoted), a stance as a radio group,
 * the comment, and for a change proposal the proposed replacement text.
 */
import { describeError } from '../api/errors';
import { type AnchorInput, STANCES, type Stance, type Thread } from '../api/types';
import { h, uid } from '../dom';
import { t } from '../i18n';
import { mentionField } from './mentions';
import type { ThreadStore } from './store';
import { stanceLabel } from './thread-card';

export interface ComposeOptions {
  store: ThreadStore;
  anchor: AnchorInput;
  quote: string;
  onDone(thread: Thread | null): void;
}

export function composeForm(options: ComposeOptions): {
  el: HTMLElement;
  focus(options?: FocusOptions): void;
  /**
   * The round closed while the form was open: it can no longer be sent, so it says why,
   * and what was written stays visible, read-only (not lost); Cancel closes it.
   */
  closeForRound(reason: string): void;
} {
  const headingId = uid('compose-heading');
  const bodyId = uid('compose-body');
  const proposalId = uid('compose-proposal');
  const proposalHintId = uid('compose-proposal-hint');
  const errorId = uid('compose-error');
  const mentionHintId = uid('compose-mention-hint');
  const group = uid('stance');

  const radios = [null, ...STANCES].map((stance) => {
    const id = uid('stance-option');
    const input = h('input', {
      type: 'radio',
      name: group,
      id,
      value: stance ?? '',
      checked: stance === null,
    });
    return {
      stance,
      input,
      el: h('div', { class: 'radio' }, input, h('label', { for: id }, stanceLabel(stance))),
    };
  });
  const body = h('textarea', {
    id: bodyId,
    rows: 4,
    'aria-required': 'true',
    'aria-describedby': mentionHintId,
  });
  const mentions = mentionField(body, (q) => options.store.api.mentionable(options.store.docId, q));
  const proposal = h('textarea', {
    id: proposalId,
    rows: 3,
    lang: 'sv',
    'aria-describedby': proposalHintId,
  });
  const proposalField = h(
    'div',
    { class: 'field', hidden: true },
    h('label', { for: proposalId }, t('comments.compose.proposal')),
    h('p', { id: proposalHintId, class: 'hint' }, t('comments.compose.proposalHint')),
    proposal,
  );
  const error = h('p', { id: errorId, class: 'field-error', role: 'alert' });
  const submit = h(
    'button',
    { type: 'submit', class: 'button button--primary button--small' },
    t('comments.compose.submit'),
  );
  const cancel = h(
    'button',
    { type: 'button', class: 'button button--small' },
    t('comments.compose.cancel'),
  );

  const chosen = (): Stance | null => radios.find((r) => r.input.checked)?.stance ?? null;
  for (const radio of radios) {
    radio.input.addEventListener('change', () => {
      proposalField.hidden = chosen() !== 'andringsforslag';
    });
  }

  const form = h(
    'form',
    { class: 'compose', 'aria-labelledby': headingId, 'data-testid': 'compose', novalidate: true },
    h('h3', { id: headingId }, t('comments.compose.title')),
    h(
      'figure',
      { class: 'thread__quote' },
      h('figcaption', { class: 'hint' }, t('comments.compose.quote')),
      h('blockquote', { lang: 'sv' }, options.quote),
    ),
    h(
      'fieldset',
      { class: 'radio-group' },
      h('legend', {}, t('comments.compose.stance')),
      radios.map((r) => r.el),
    ),
    h(
      'div',
      { class: 'field mention-field' },
      h('label', { for: bodyId }, t('comments.compose.body')),
      h('p', { id: mentionHintId, class: 'hint' }, t('mention.hint')),
      body,
      mentions.listbox,
    ),
    proposalField,
    error,
    h('div', { class: 'form-actions' }, submit, cancel),
  );
  cancel.addEventListener('click', () => options.onDone(null));
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      options.onDone(null);
    }
  });
  const closedNote = h('p', { class: 'hint compose__closed', hidden: true });
  form.insertBefore(closedNote, form.children[1] ?? null);
  let closed = false;
  const closeForRound = (reason: string) => {
    closed = true;
    closedNote.textContent = reason;
    closedNote.hidden = false;
    for (const radio of radios) radio.input.disabled = true;
    body.readOnly = true;
    proposal.readOnly = true;
    submit.disabled = true;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (closed) return;
    const stance = chosen();
    const text = body.value.trim();
    const proposed = proposal.value.trim();
    error.textContent = '';
    body.removeAttribute('aria-invalid');
    proposal.removeAttribute('aria-invalid');
    if (!text) {
      error.textContent = t('comments.compose.bodyMissing');
      body.setAttribute('aria-invalid', 'true');
      body.setAttribute('aria-describedby', `${mentionHintId} ${errorId}`);
      body.focus();
      return;
    }
    if (stance === 'andringsforslag' && !proposed) {
      error.textContent = t('comments.compose.proposalMissing');
      proposal.setAttribute('aria-invalid', 'true');
      proposal.focus();
      return;
    }
    submit.disabled = true;
    options.store.api
      .createThread(options.store.docId, {
        anchor: options.anchor,
        body: text,
        ...(mentions.mentions().length > 0 ? { mentions: mentions.mentions() } : {}),
        ...(stance ? { stance } : {}),
        ...(stance === 'andringsforslag' ? { proposal: proposed } : {}),
      })
      .then((thread) => {
        options.store.receive(thread);
        options.onDone(thread);
      })
      .catch((failure: unknown) => {
        submit.disabled = closed;
        error.textContent = t('comments.compose.failed', { message: describeError(failure) });
      });
  });
  return { el: form, focus: (options) => radios[0]?.input.focus(options), closeForRound };
}

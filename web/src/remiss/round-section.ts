/**
 * The round: diarienummer, phase and svarsdatum, and whether new remarks are taken now.
 * Owners edit them in a form; everyone else reads them.
 */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import { PHASES, type Phase, type RemissRound } from '../api/types';
import { h, replaceChildren, uid } from '../dom';
import { type MessageKey, t } from '../i18n';
import {
  formatCalendarDate,
  labelled,
  type Part,
  section,
  statusLine,
  submitButton,
} from './parts';
import type { RemissState } from './state';

export function roundSection(state: RemissState, isOwner: boolean): Part {
  const body = h('div', { class: 'remiss-round' });
  const formSlot = h('div', {});
  const status = statusLine();
  const draw = () => {
    const round = state.round;
    if (!round) {
      replaceChildren(body, loadNote(state));
      return;
    }
    replaceChildren(body, facts(round));
    // The form is made once: a later change must not take focus or half-typed values.
    if (isOwner && !formSlot.firstChild) formSlot.append(ownerForm(state, round, status));
  };
  draw();
  const off = state.subscribe(draw);
  return {
    el: section('remiss-round', 'remiss.round.title', body, formSlot, status.el),
    destroy: off,
  };
}

export function loadNote(state: RemissState): HTMLElement {
  if (state.load === 'loading') return h('p', { class: 'muted' }, t('app.loading'));
  if (state.load === 'unsupported') return h('p', { class: 'hint' }, t('remiss.unsupported'));
  return h(
    'p',
    { class: 'alert alert--error', role: 'alert' },
    t('remiss.round.loadFailed', { message: describeError(state.error) }),
  );
}

function openness(round: RemissRound): { text: string; open: boolean } {
  if (round.acceptingThreads) return { text: t('remiss.round.accepting'), open: true };
  if (round.phase === 'avslutad') return { text: t('remiss.round.closedPhase'), open: false };
  return { text: t('remiss.round.closedDeadline'), open: false };
}

function facts(round: RemissRound): HTMLElement {
  const { text, open } = openness(round);
  const row = (label: MessageKey, value: string) =>
    h('div', {}, h('dt', {}, t(label)), h('dd', {}, value));
  return h(
    'div',
    {},
    h(
      'dl',
      { class: 'facts', 'data-testid': 'round-facts' },
      row('remiss.round.diarienummer', round.diarienummer ?? t('remiss.round.none')),
      row('remiss.round.phase', t(`phase.${round.phase}` as MessageKey)),
      row(
        'remiss.round.deadline',
        round.deadline ? formatCalendarDate(round.deadline) : t('remiss.round.none'),
      ),
    ),
    h(
      'p',
      {
        class: open ? 'remiss-open' : 'remiss-open remiss-open--closed',
        'data-testid': 'round-openness',
      },
      text,
    ),
  );
}

function ownerForm(
  state: RemissState,
  round: RemissRound,
  status: ReturnType<typeof statusLine>,
): HTMLElement {
  const ids = { dnr: uid('dnr'), phase: uid('phase'), deadline: uid('deadline') };
  const hintId = uid('deadline-hint');
  const dnr = h('input', {
    type: 'text',
    id: ids.dnr,
    value: round.diarienummer ?? '',
    autocomplete: 'off',
    placeholder: 'KS 2019/1939',
  });
  const phase = h(
    'select',
    { id: ids.phase, class: 'select' },
    PHASES.map((p) =>
      h('option', { value: p, selected: p === round.phase }, t(`phase.${p}` as MessageKey)),
    ),
  );
  const deadline = h('input', {
    type: 'date',
    id: ids.deadline,
    value: round.deadline ?? '',
    'aria-describedby': hintId,
  });
  const save = submitButton('remiss.round.save');
  const form = h(
    'form',
    { class: 'remiss-form', 'data-testid': 'round-form', novalidate: true },
    h(
      'fieldset',
      {},
      h('legend', {}, t('remiss.round.edit')),
      h(
        'div',
        { class: 'remiss-form__fields' },
        labelled(ids.dnr, 'remiss.round.diarienummer', dnr),
        labelled(ids.phase, 'remiss.round.phase', phase),
        labelled(ids.deadline, 'remiss.round.deadline', deadline, {
          id: hintId,
          text: 'remiss.round.deadlineHint',
        }),
      ),
      save,
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const date = deadline.value.trim();
    if (date && !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
      deadline.setAttribute('aria-invalid', 'true');
      status.fail(t('remiss.round.badDate'));
      deadline.focus();
      return;
    }
    deadline.removeAttribute('aria-invalid');
    save.disabled = true;
    api
      .updateRemiss(state.docId, {
        diarienummer: dnr.value.trim() || null,
        phase: phase.value as Phase,
        deadline: date || null,
      })
      .then((updated) => {
        state.set(updated);
        status.ok(t('remiss.round.saved'));
      })
      .catch((error: unknown) => {
        status.fail(t('remiss.round.failed', { message: describeError(error) }));
      })
      .finally(() => {
        save.disabled = false;
      });
  });
  return form;
}

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
  const ruleSlot = h('div', {});
  const status = statusLine();
  const ruleStatus = statusLine();
  const draw = () => {
    const round = state.round;
    if (!round) {
      replaceChildren(body, loadNote(state));
      return;
    }
    replaceChildren(body, facts(round));
    // The form is made once: a later change must not take focus or half-typed values.
    if (isOwner && !formSlot.firstChild) formSlot.append(ownerForm(state, round, status));
    if (isOwner && !ruleSlot.firstChild) ruleSlot.append(ruleForm(state, round, ruleStatus));
  };
  draw();
  const off = state.subscribe(draw);
  return {
    el: section(
      'remiss-round',
      'remiss.round.title',
      body,
      formSlot,
      status.el,
      ruleSlot,
      ruleStatus.el,
    ),
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
    h('p', { 'data-testid': 'round-suggestion-rule' }, ruleText(round)),
  );
}

/** Which phases require suggestions, and whether the rule holds now, in words. */
function ruleText(round: RemissRound): string {
  const phases = round.suggestionPhases ?? [];
  if (phases.length === 0) return t('remiss.rule.none');
  const names = phases.map((p) => t(`phase.${p}` as MessageKey).toLowerCase()).join(', ');
  return t(round.suggestionsRequired ? 'remiss.rule.inForce' : 'remiss.rule.notNow', {
    phases: names,
  });
}

/**
 * The owners' rule (issue 16): in which phases changes must be suggested. One labelled
 * checkbox per phase in a fieldset; saved on its own so it never resends the round's
 * other fields.
 */
function ruleForm(
  state: RemissState,
  round: RemissRound,
  status: ReturnType<typeof statusLine>,
): HTMLElement {
  const hintId = uid('rule-hint');
  const boxes = PHASES.map((p) => {
    const id = uid(`rule-${p}`);
    const box = h('input', {
      type: 'checkbox',
      id,
      value: p,
      checked: (round.suggestionPhases ?? []).includes(p),
      'data-testid': `rule-${p}`,
    });
    return {
      phase: p,
      box,
      el: h(
        'div',
        { class: 'checkbox' },
        box,
        h('label', { for: id }, t(`phase.${p}` as MessageKey)),
      ),
    };
  });
  const save = submitButton('remiss.rule.save');
  const form = h(
    'form',
    { class: 'remiss-form', 'data-testid': 'rule-form', novalidate: true },
    h(
      'fieldset',
      { 'aria-describedby': hintId },
      h('legend', {}, t('remiss.rule.legend')),
      h('p', { id: hintId, class: 'hint' }, t('remiss.rule.hint')),
      h(
        'div',
        { class: 'remiss-form__fields' },
        boxes.map((b) => b.el),
      ),
      save,
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    save.disabled = true;
    const suggestionPhases = boxes.filter((b) => b.box.checked).map((b) => b.phase);
    api
      .updateRemiss(state.docId, { suggestionPhases })
      .then((updated) => {
        state.set(updated);
        status.ok(t('remiss.rule.saved'));
      })
      .catch((error: unknown) => {
        status.fail(t('remiss.rule.failed', { message: describeError(error) }));
      })
      .finally(() => {
        save.disabled = false;
      });
  });
  return form;
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

/**
 * The invited organisations as a table: role, status (Inbjuden, Har öppnat, Kommenterar,
 * Yttrande lämnat, Avstår), its svarsdatum (its own when extended), when they were invited, first opened, first commented and
 * answered, their threads and their statement. For the caller's own organisation, when
 * it is invited: "Lämna yttrande" and "Avstå".
 */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import type { Invitee, RemissRound } from '../api/types';
import { h, replaceChildren, uid } from '../dom';
import { formatDateTime, type MessageKey, t } from '../i18n';
import {
  dataTable,
  formatCalendarDate,
  type Part,
  section,
  statusLine,
  tableWrap,
  timeOrDash,
} from './parts';
import { loadNote } from './round-section';
import type { RemissState } from './state';

export function inviteesSection(state: RemissState, ownOrg: string): Part {
  const tableSlot = tableWrap('remiss.invitees.title');
  const answerSlot = h('div', {});
  const refresh = h(
    'button',
    { type: 'button', class: 'button button--small' },
    t('remiss.invitees.refresh'),
  );
  refresh.addEventListener('click', () => void state.reload());
  let answer: Part | null = null;
  const draw = () => {
    const round = state.round;
    replaceChildren(tableSlot, round ? inviteeTable(round) : loadNote(state));
    const mine = round?.invitees.find((i) => i.org.id === ownOrg);
    if (mine && !answer) {
      answer = answerPart(state, mine);
      answerSlot.append(answer.el);
    }
    if (!mine && answer) {
      answer.el.remove();
      answer = null;
    }
  };
  draw();
  const off = state.subscribe(draw);
  return {
    el: section(
      'remiss-invitees',
      'remiss.invitees.title',
      h('p', { class: 'section-tools' }, refresh),
      tableSlot,
      answerSlot,
    ),
    destroy() {
      off();
      answer?.destroy?.();
    },
  };
}

function inviteeTable(round: RemissRound): HTMLElement {
  if (round.invitees.length === 0) return h('p', { class: 'muted' }, t('remiss.invitees.none'));
  return dataTable(
    'invitees',
    t('remiss.invitees.caption'),
    [
      'remiss.invitees.colOrg',
      'remiss.invitees.colStatus',
      'remiss.invitees.colDeadline',
      'remiss.invitees.colInvited',
      'remiss.invitees.colOpened',
      'remiss.invitees.colFirstComment',
      'remiss.invitees.colAnswered',
      'remiss.invitees.colThreads',
    ],
    round.invitees.map(inviteeRow),
  );
}

function inviteeRow(invitee: Invitee): HTMLElement {
  const answeredAt = invitee.doneAt ?? invitee.declinedAt;
  return h(
    'tr',
    { 'data-org': invitee.org.id, 'data-status': invitee.status },
    h(
      'th',
      { scope: 'row' },
      h('span', { class: 'members__name' }, invitee.org.name),
      h('span', { class: 'members__kind' }, t(`role.${invitee.role}` as MessageKey)),
    ),
    h(
      'td',
      {},
      h(
        'span',
        { class: `status status--${invitee.status}`, 'data-testid': 'invitee-status' },
        t(`inviteeStatus.${invitee.status}` as MessageKey),
      ),
      invitee.statement ? statementDetails(invitee) : null,
    ),
    h(
      'td',
      { 'data-testid': 'invitee-deadline' },
      invitee.deadline ? formatCalendarDate(invitee.deadline) : '–',
      invitee.extended ? ` (${t('remiss.invitees.extended')})` : '',
    ),
    h('td', {}, timeOrDash(invitee.invitedAt)),
    h('td', {}, timeOrDash(invitee.openedAt)),
    h('td', {}, timeOrDash(invitee.firstCommentAt)),
    h('td', {}, timeOrDash(answeredAt)),
    h('td', { class: 'num' }, String(invitee.threads)),
  );
}

function statementDetails(invitee: Invitee): HTMLElement {
  return h(
    'details',
    { class: 'statement' },
    h(
      'summary',
      {},
      t(
        invitee.status === 'declined'
          ? 'remiss.invitees.showReason'
          : 'remiss.invitees.showStatement',
      ),
      h('span', { class: 'visually-hidden' }, ` (${invitee.org.name})`),
    ),
    h('p', { class: 'statement__text', lang: 'sv' }, invitee.statement ?? ''),
  );
}

/** "Ert svar": give the statement or decline, as the caller's organisation. */
function answerPart(state: RemissState, mine: Invitee): Part {
  const status = statusLine();
  const current = h('p', { 'data-testid': 'own-answer' });
  const formSlot = h('div', {});
  const give = h(
    'button',
    { type: 'button', class: 'button button--primary button--small' },
    t('remiss.answer.give'),
  );
  const decline = h(
    'button',
    { type: 'button', class: 'button button--small' },
    t('remiss.answer.decline'),
  );
  const buttons = h('div', { class: 'form-actions' }, give, decline);

  const drawCurrent = () => {
    const me = state.round?.invitees.find((i) => i.org.id === mine.org.id) ?? mine;
    if (me.status === 'done' && me.doneAt != null)
      current.textContent = t('remiss.answer.currentDone', { time: formatDateTime(me.doneAt) });
    else if (me.status === 'declined' && me.declinedAt != null)
      current.textContent = t('remiss.answer.currentDeclined', {
        time: formatDateTime(me.declinedAt),
      });
    else current.textContent = t('remiss.answer.currentNone');
    return me;
  };
  drawCurrent();
  const off = state.subscribe(drawCurrent);

  const open = (kind: 'done' | 'declined') => {
    const me = drawCurrent();
    const form = answerForm(kind, me.status === kind ? (me.statement ?? '') : '', {
      submit: async (statement) => {
        const round = await api.answerRemiss(state.docId, {
          status: kind,
          ...(statement ? { statement } : {}),
        });
        state.set(round);
        status.ok(t(kind === 'done' ? 'remiss.answer.sentDone' : 'remiss.answer.sentDeclined'));
      },
      fail: (error) => status.fail(t('remiss.answer.failed', { message: describeError(error) })),
      close: () => {
        replaceChildren(formSlot);
        buttons.hidden = false;
        (kind === 'done' ? give : decline).focus();
      },
    });
    buttons.hidden = true;
    replaceChildren(formSlot, form.el);
    form.focus();
  };
  give.addEventListener('click', () => open('done'));
  decline.addEventListener('click', () => open('declined'));

  const headingId = uid('answer-heading');
  return {
    el: h(
      'div',
      { class: 'answer', role: 'group', 'aria-labelledby': headingId, 'data-testid': 'answer' },
      h('h3', { id: headingId }, t('remiss.answer.title', { org: mine.org.name })),
      h('p', { class: 'hint' }, t('remiss.answer.intro')),
      current,
      buttons,
      formSlot,
      status.el,
    ),
    destroy: off,
  };
}

interface AnswerHandlers {
  submit(statement: string): Promise<void>;
  fail(error: unknown): void;
  close(): void;
}

function answerForm(
  kind: 'done' | 'declined',
  initial: string,
  handlers: AnswerHandlers,
): { el: HTMLElement; focus(): void } {
  const id = uid('statement');
  const errorId = uid('statement-error');
  const area = h('textarea', { id, rows: 6, lang: 'sv', 'aria-required': String(kind === 'done') });
  area.value = initial;
  const error = h('p', { id: errorId, class: 'field-error' });
  const submit = h(
    'button',
    { type: 'submit', class: 'button button--primary button--small' },
    t(kind === 'done' ? 'remiss.answer.submitDone' : 'remiss.answer.submitDecline'),
  );
  const cancel = h(
    'button',
    { type: 'button', class: 'button button--small' },
    t('remiss.answer.cancel'),
  );
  cancel.addEventListener('click', handlers.close);
  const form = h(
    'form',
    { class: 'answer__form', novalidate: true },
    h(
      'div',
      { class: 'field' },
      h(
        'label',
        { for: id, class: 'field__label' },
        t(kind === 'done' ? 'remiss.answer.statement' : 'remiss.answer.declineReason'),
      ),
      area,
      error,
    ),
    h('div', { class: 'form-actions' }, submit, cancel),
  );
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      handlers.close();
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = area.value.trim();
    error.textContent = '';
    area.removeAttribute('aria-invalid');
    if (kind === 'done' && !text) {
      error.textContent = t('remiss.answer.statementMissing');
      area.setAttribute('aria-invalid', 'true');
      area.setAttribute('aria-describedby', errorId);
      area.focus();
      return;
    }
    submit.disabled = true;
    handlers
      .submit(text)
      .then(handlers.close)
      .catch((failure: unknown) => {
        submit.disabled = false;
        handlers.fail(failure);
      });
  });
  return { el: form, focus: () => area.focus() };
}

/**
 * "Förlängt svarsdatum" on the Remiss tab (issue 17): an invited organisation asks for a
 * later svarsdatum with a reason and follows what became of it; the owners see the
 * requests awaiting them and grant (with the date they choose) or refuse (with a reason)
 * each, and may grant a later date unasked. Requests and decisions are kept as received,
 * so nothing here edits or removes one. After a decision the round is read again, so the
 * invitee table shows the organisation's new svarsdatum.
 */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import type {
  ExtensionDecision,
  ExtensionRequest,
  Invitee,
  RemissExtensions,
  RemissRound,
} from '../api/types';
import { h, replaceChildren, uid } from '../dom';
import { formatDateTime, t } from '../i18n';
import {
  formatCalendarDate,
  labelled,
  type Part,
  section,
  statusLine,
  submitButton,
  todayInStockholm,
} from './parts';
import type { RemissState } from './state';

/** Longest reason the server takes, in characters. */
const MAX_REASON = 2000;

type Status = ReturnType<typeof statusLine>;

export function extensionsSection(state: RemissState, ownOrg: string, isOwner: boolean): Part {
  const status = statusLine();
  const body = h('div', {});
  const formSlot = h('div', {});
  let extensions: RemissExtensions | null = null;
  let ended = false;

  const load = async () => {
    try {
      const got = await api.remissExtensions(state.docId);
      if (ended) return;
      extensions = got;
      draw();
    } catch (error) {
      if (!ended) status.fail(t('remiss.ext.loadFailed', { message: describeError(error) }));
    }
  };
  const changed = (got: RemissExtensions, message: string) => {
    extensions = got;
    draw();
    status.ok(message);
    void state.reload();
  };

  const draw = () => {
    const round = state.round;
    el.hidden = !round?.deadline || !(isOwner || mine(round, ownOrg));
    if (!round || !extensions) return;
    if (isOwner) {
      replaceChildren(body, ownerView(state.docId, extensions, status, changed));
      if (!formSlot.firstChild && round.invitees.length > 0)
        formSlot.append(grantForm(state.docId, round, status, changed));
      return;
    }
    const me = mine(round, ownOrg);
    if (!me) return;
    replaceChildren(body, inviteeView(me, extensions.requests));
    const pending = extensions.requests.some((r) => !r.decision);
    if (pending || round.phase === 'avslutad') formSlot.replaceChildren();
    else if (!formSlot.firstChild)
      formSlot.append(requestForm(state.docId, me, status, changed, formSlot));
  };

  const el = section('remiss-extensions', 'remiss.ext.title', body, formSlot, status.el);
  el.hidden = true;
  // The round is read again after threads, arrivals and "Uppdatera": so are the requests.
  const off = state.subscribe(() => void load());
  void load();
  return {
    el,
    destroy() {
      ended = true;
      off();
    },
  };
}

function mine(round: RemissRound, ownOrg: string): Invitee | undefined {
  return round.invitees.find((i) => i.org.id === ownOrg);
}

function decisionText(decision: ExtensionDecision): string {
  return decision.granted && decision.date
    ? t('remiss.ext.granted', {
        date: formatCalendarDate(decision.date),
        by: decision.decidedByName,
      })
    : t('remiss.ext.refused', { by: decision.decidedByName, reason: decision.reason ?? '' });
}

/** The invitee's own svarsdatum and its requests, newest first. */
function inviteeView(me: Invitee, requests: ExtensionRequest[]): HTMLElement {
  const date = me.deadline ? formatCalendarDate(me.deadline) : t('remiss.round.none');
  return h(
    'div',
    {},
    h(
      'p',
      { 'data-testid': 'own-deadline' },
      t(me.extended ? 'remiss.ext.ownExtended' : 'remiss.ext.own', { date }),
    ),
    requests.length === 0
      ? null
      : h(
          'ul',
          { class: 'extension-list', 'data-testid': 'own-requests' },
          [...requests].reverse().map((r) =>
            h(
              'li',
              {
                'data-state': r.decision ? (r.decision.granted ? 'granted' : 'refused') : 'pending',
              },
              t('remiss.ext.asked', {
                date: formatCalendarDate(r.date),
                time: formatDateTime(r.requestedAt),
              }),
              ' ',
              r.decision ? decisionText(r.decision) : t('remiss.ext.pending'),
            ),
          ),
        ),
  );
}

function requestForm(
  docId: string,
  me: Invitee,
  status: Status,
  changed: (got: RemissExtensions, message: string) => void,
  slot: HTMLElement,
): HTMLElement {
  const dateId = uid('ext-date');
  const reasonId = uid('ext-reason');
  const date = h('input', {
    id: dateId,
    type: 'date',
    required: true,
    min: me.deadline ?? todayInStockholm(),
  });
  const reason = h('textarea', {
    id: reasonId,
    rows: 3,
    required: true,
    maxlength: MAX_REASON,
    lang: 'sv',
  });
  const form = h(
    'form',
    { class: 'extension-form', 'data-testid': 'extension-request' },
    h('h3', {}, t('remiss.ext.askTitle')),
    labelled(dateId, 'remiss.ext.date', date),
    labelled(reasonId, 'remiss.ext.reason', reason),
    h('div', { class: 'form-actions' }, submitButton('remiss.ext.ask')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!date.value || !reason.value.trim()) {
      status.fail(t('remiss.ext.missing'));
      (date.value ? reason : date).focus();
      return;
    }
    api.requestExtension(docId, date.value, reason.value).then(
      (got) => {
        slot.replaceChildren();
        changed(got, t('remiss.ext.sent'));
      },
      (error: unknown) => status.fail(t('remiss.ext.failed', { message: describeError(error) })),
    );
  });
  return form;
}

/** The requests awaiting a decision, each with grant and refuse, then the decisions made. */
function ownerView(
  docId: string,
  extensions: RemissExtensions,
  status: Status,
  changed: (got: RemissExtensions, message: string) => void,
): HTMLElement {
  const pending = extensions.requests.filter((r) => !r.decision);
  return h(
    'div',
    {},
    h('h3', {}, t('remiss.ext.pendingTitle')),
    pending.length === 0
      ? h('p', { class: 'muted' }, t('remiss.ext.nonePending'))
      : h(
          'ul',
          { class: 'extension-list', 'data-testid': 'pending-requests' },
          pending.map((r) => pendingItem(docId, r, status, changed)),
        ),
    extensions.decisions.length === 0
      ? null
      : h(
          'details',
          { class: 'extension-history' },
          h('summary', {}, t('remiss.ext.history')),
          h(
            'ul',
            {},
            extensions.decisions.map((d) =>
              h('li', {}, `${d.org.name}: `, decisionText(d), ` (${formatDateTime(d.decidedAt)})`),
            ),
          ),
        ),
  );
}

function pendingItem(
  docId: string,
  request: ExtensionRequest,
  status: Status,
  changed: (got: RemissExtensions, message: string) => void,
): HTMLElement {
  const org = request.org.name;
  const dateId = uid('grant-date');
  const reasonId = uid('refuse-reason');
  const date = h('input', { id: dateId, type: 'date', value: request.date });
  const reason = h('input', { id: reasonId, type: 'text', maxlength: MAX_REASON });
  const decide = (grant: boolean) => {
    if (!grant && !reason.value.trim()) {
      status.fail(t('remiss.ext.reasonMissing'));
      reason.focus();
      return;
    }
    api
      .decideExtension(docId, {
        org: request.org.id,
        request: request.seq,
        grant,
        ...(grant ? { date: date.value } : { reason: reason.value }),
      })
      .then(
        (got) =>
          changed(
            got,
            grant
              ? t('remiss.ext.grantedTo', { org, date: formatCalendarDate(date.value) })
              : t('remiss.ext.refusedTo', { org }),
          ),
        (error: unknown) => status.fail(t('remiss.ext.failed', { message: describeError(error) })),
      );
  };
  const grant = h(
    'button',
    {
      type: 'button',
      class: 'button button--primary button--small',
      'aria-label': t('remiss.ext.grantFor', { org }),
    },
    t('remiss.ext.grant'),
  );
  grant.addEventListener('click', () => decide(true));
  const refuse = h(
    'button',
    {
      type: 'button',
      class: 'button button--small',
      'aria-label': t('remiss.ext.refuseFor', { org }),
    },
    t('remiss.ext.refuse'),
  );
  refuse.addEventListener('click', () => decide(false));
  const headingId = uid('request');
  return h(
    'li',
    { role: 'group', 'aria-labelledby': headingId, 'data-org': request.org.id },
    h(
      'p',
      { id: headingId },
      h('strong', {}, org),
      ' ',
      t('remiss.ext.requestLine', {
        date: formatCalendarDate(request.date),
        by: request.requestedByName,
        time: formatDateTime(request.requestedAt),
      }),
    ),
    h('p', { class: 'statement__text', lang: 'sv' }, request.reason),
    h(
      'div',
      { class: 'extension-decide' },
      labelled(dateId, 'remiss.ext.grantDate', date),
      grant,
      labelled(reasonId, 'remiss.ext.refuseReason', reason),
      refuse,
    ),
  );
}

/** Owners: grant an organisation a later svarsdatum without a request. */
function grantForm(
  docId: string,
  round: RemissRound,
  status: Status,
  changed: (got: RemissExtensions, message: string) => void,
): HTMLElement {
  const orgId = uid('grant-org');
  const dateId = uid('grant-unasked-date');
  const org = h(
    'select',
    { id: orgId },
    round.invitees.map((i) => h('option', { value: i.org.id }, i.org.name)),
  );
  const date = h('input', { id: dateId, type: 'date', required: true });
  const form = h(
    'form',
    { class: 'extension-form' },
    h('h3', {}, t('remiss.ext.unaskedTitle')),
    labelled(orgId, 'remiss.ext.org', org),
    labelled(dateId, 'remiss.ext.grantDate', date),
    h('div', { class: 'form-actions' }, submitButton('remiss.ext.grant')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!date.value) {
      status.fail(t('remiss.ext.missing'));
      date.focus();
      return;
    }
    const name = org.selectedOptions[0]?.textContent ?? org.value;
    api.decideExtension(docId, { org: org.value, grant: true, date: date.value }).then(
      (got) =>
        changed(
          got,
          t('remiss.ext.grantedTo', { org: name, date: formatCalendarDate(date.value) }),
        ),
      (error: unknown) => status.fail(t('remiss.ext.failed', { message: describeError(error) })),
    );
  });
  return form;
}

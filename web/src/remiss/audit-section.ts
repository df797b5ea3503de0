/**
 * The audit trail (owners): every recorded event in order, as a table loaded on request,
 * "Verifiera kedjan" with the server's verdict on the hash chain, and a CSV export.
 */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import type { AuditEntry } from '../api/types';
import { saveBlob } from '../documents/export';
import { h, replaceChildren } from '../dom';
import { formatDateTime, type MessageKey, t } from '../i18n';
import { dataTable, type Part, section, statusLine, tableWrap } from './parts';

const ACTIONS = [
  'document_created',
  'member_invited',
  'member_role_changed',
  'member_removed',
  'remiss_changed',
  'first_open',
  'thread_opened',
  'comment_added',
  'comment_edited',
  'comment_deleted',
  'thread_resolved',
  'thread_reopened',
  'thread_reanchored',
  'proposal_accepted',
  'proposal_rejected',
  'response_given',
  'response_declined',
  'extension_requested',
  'extension_granted',
  'extension_refused',
  'version_saved',
  'export_made',
  'webhook_registered',
  'webhook_removed',
  'webhook_delivered',
  'webhook_failed',
];

export function actionLabel(action: string): string {
  return ACTIONS.includes(action) ? t(`audit.action.${action}` as MessageKey) : action;
}

/** The entry's detail as short `key: value` text (it is JSON of the server's choosing). */
function detailText(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  if (typeof detail !== 'object') return String(detail);
  return Object.entries(detail as Record<string, unknown>)
    .map(
      ([key, value]) =>
        `${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`,
    )
    .join(', ');
}

export function auditSection(docId: string): Part {
  const status = statusLine();
  const verdict = h('div', { 'data-testid': 'audit-verdict', 'aria-live': 'polite' });
  const tableSlot = tableWrap('remiss.audit.title');
  const show = h(
    'button',
    { type: 'button', class: 'button button--small', 'aria-expanded': 'false' },
    t('remiss.audit.show'),
  );
  const verify = h(
    'button',
    { type: 'button', class: 'button button--small button--primary' },
    t('remiss.audit.verify'),
  );
  const csv = h('button', { type: 'button', class: 'button button--small' }, t('remiss.audit.csv'));

  show.addEventListener('click', async () => {
    if (show.getAttribute('aria-expanded') === 'true') {
      replaceChildren(tableSlot);
      show.setAttribute('aria-expanded', 'false');
      return;
    }
    try {
      const entries = await api.audit(docId);
      replaceChildren(tableSlot, auditTable(entries));
      show.setAttribute('aria-expanded', 'true');
    } catch (error) {
      status.fail(t('remiss.audit.loadFailed', { message: describeError(error) }));
    }
  });
  verify.addEventListener('click', async () => {
    verify.setAttribute('aria-busy', 'true');
    try {
      const result = await api.verifyAudit(docId);
      replaceChildren(
        verdict,
        h(
          'p',
          {
            class: result.valid ? 'alert' : 'alert alert--error',
            'data-valid': String(result.valid),
          },
          result.valid
            ? t('remiss.audit.valid', { entries: result.entries })
            : t('remiss.audit.broken', {
                seq: result.firstBroken ?? '?',
                entries: result.entries,
                reason: result.reason ?? '?',
              }),
        ),
      );
    } catch (error) {
      status.fail(t('remiss.audit.loadFailed', { message: describeError(error) }));
    } finally {
      verify.removeAttribute('aria-busy');
    }
  });
  csv.addEventListener('click', async () => {
    try {
      const file = await api.download(docId, 'audit', 'csv');
      const filename = file.filename ?? `granskningslogg-${docId}.csv`;
      saveBlob(file.blob, filename);
      status.ok(t('export.started', { file: filename }));
    } catch (error) {
      status.fail(t('export.failed', { message: describeError(error) }));
    }
  });

  return {
    el: section(
      'remiss-audit',
      'remiss.audit.title',
      h('p', { class: 'hint' }, t('remiss.audit.intro')),
      h('div', { class: 'row-actions' }, verify, show, csv),
      verdict,
      status.el,
      tableSlot,
    ),
  };
}

function auditTable(entries: AuditEntry[]): HTMLElement {
  if (entries.length === 0) return h('p', { class: 'muted' }, t('remiss.audit.empty'));
  return dataTable(
    'audit',
    t('remiss.audit.title'),
    [
      'remiss.audit.colSeq',
      'remiss.audit.colAt',
      'remiss.audit.colAction',
      'remiss.audit.colActor',
      'remiss.audit.colOrg',
      'remiss.audit.colDetail',
    ],
    entries.map((e) =>
      h(
        'tr',
        { 'data-action': e.action },
        h('td', { class: 'num' }, String(e.seq)),
        h('td', {}, formatDateTime(e.at)),
        h('td', {}, actionLabel(e.action)),
        h('td', {}, e.actor?.name ?? t('remiss.audit.server')),
        h('td', {}, e.org ?? ''),
        h('td', { class: 'audit__detail' }, detailText(e.detail)),
      ),
    ),
  );
}

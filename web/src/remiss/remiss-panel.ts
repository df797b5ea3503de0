/**
 * The "Remiss" tab of the document view: the round, the invitees and their answers, the
 * consensus matrix, the named versions and diffs, the reports to download and, for owners, the audit trail and
 * webhooks. The invitees' status is read again when the panel opens, when threads change
 * and when someone arrives (their first open moves it).
 */
import type { DocumentInfo } from '../api/types';
import type { DocumentSession } from '../documents/session';
import { h } from '../dom';
import { t } from '../i18n';
import { auditSection } from './audit-section';
import { downloadsSection } from './downloads-section';
import { extensionsSection } from './extensions-section';
import { inviteesSection } from './invitees-section';
import { matrixSection } from './matrix-section';
import type { Part } from './parts';

export type { Part } from './parts';

import { roundSection } from './round-section';
import { versionsSection } from './versions-section';
import { webhooksSection } from './webhooks-section';

export const REMISS_PANEL_ID = 'remiss-panel';

/** How long to gather thread and presence changes before reading the round again. */
const REFRESH_DELAY_MS = 500;

/**
 * `openThread` shows a thread in the Text tab's comments (the matrix's cells link there).
 */
export function remissPanel(
  session: DocumentSession,
  info: DocumentInfo,
  openThread: (threadId: string) => void,
): Part {
  const isOwner = info.role === 'owner';
  const state = session.remiss;
  const matrix = matrixSection(info.id, openThread);
  const parts: Part[] = [
    roundSection(state, isOwner),
    inviteesSection(state, session.session.user.org),
    extensionsSection(state, session.session.user.org, isOwner),
    matrix,
    versionsSection(info.id, isOwner),
    downloadsSection(info.id, () => info.title),
  ];
  if (isOwner) parts.push(auditSection(info.id), webhooksSection(info.id));

  let timer: number | null = null;
  const refreshSoon = () => {
    if (timer !== null) return;
    timer = window.setTimeout(() => {
      timer = null;
      void state.reload();
      void matrix.reload();
    }, REFRESH_DELAY_MS);
  };
  const offThreads = session.threads.subscribe(refreshSoon);
  const offPresence = session.presence.onJoinLeave(refreshSoon);
  void state.reload();

  return {
    el: h(
      'div',
      { class: 'remiss-panel', 'data-testid': 'remiss-panel' },
      h('p', { class: 'lead' }, t('remiss.intro')),
      parts.map((p) => p.el),
    ),
    destroy() {
      if (timer !== null) window.clearTimeout(timer);
      offThreads();
      offPresence();
      for (const p of parts) p.destroy?.();
    },
  };
}

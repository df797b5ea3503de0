/**
 * The right-hand margin of the document view, reserved for comment threads (anchored to
 * text ranges, stances, replies, resolution with outcome). This step only draws the
 * empty column; the threads UI fills it later, using:
 * - `session.editor` and `session.ydoc` to turn a selection into relative positions
 *   (`ySyncPluginKey`, `absolutePositionToRelativePosition` from `@tiptap/y-tiptap`);
 * - `session.role` (commenter and up may open threads);
 * - `GET/POST /api/documents/{id}/threads` and the live thread events (message type 100).
 */

import type { DocumentSession } from '../documents/session';
import { h } from '../dom';
import { t } from '../i18n';

export interface CommentsPanel {
  el: HTMLElement;
  destroy(): void;
}

export const COMMENTS_PANEL_ID = 'comments-panel';

export function commentsPanel(_session: DocumentSession): CommentsPanel {
  const el = h(
    'aside',
    {
      id: COMMENTS_PANEL_ID,
      class: 'comments-margin',
      'aria-labelledby': 'comments-heading',
      'data-testid': 'comments-margin',
    },
    h('h2', { id: 'comments-heading' }, t('comments.title')),
    h('p', { class: 'muted' }, t('comments.placeholder')),
  );
  return { el, destroy() {} };
}

/**
 * The right-hand margin of the document view: the comment threads of the document.
 * "Kommentera" (button, or Ctrl+Alt+M in the text) opens a form for the selected range;
 * threads are listed in text order with filters by status, organisation and stance;
 * threads whose text is gone sit in their own section with their original quote. The
 * threads themselves live in the session's `ThreadStore` (kept current by live events);
 * this panel is redrawn on a language switch.
 */
import type { Thread } from '../api/types';
import { canComment, STANCES } from '../api/types';
import { announce } from '../app/announce';
import type { DocumentSession } from '../documents/session';
import { h, replaceChildren, uid } from '../dom';
import { type MessageKey, t } from '../i18n';
import { anchorRange, decodeAnchor, selectionAnchor } from './anchors';
import { composeForm } from './compose';
import { ThreadCard } from './thread-card';

export interface CommentsPanel {
  el: HTMLElement;
  destroy(): void;
}

export const COMMENTS_PANEL_ID = 'comments-panel';

interface Filters {
  status: '' | 'open' | 'resolved';
  org: string;
  stance: string;
}

const filtersBySession = new WeakMap<DocumentSession, Filters>();

function order(a: Thread, b: Thread, orphaned: boolean): number {
  const pa =
    (orphaned ? a.anchor.originalParagraph : a.anchor.paragraph) ?? Number.MAX_SAFE_INTEGER;
  const pb =
    (orphaned ? b.anchor.originalParagraph : b.anchor.paragraph) ?? Number.MAX_SAFE_INTEGER;
  return pa - pb || a.createdAt - b.createdAt;
}

export function commentsPanel(session: DocumentSession): CommentsPanel {
  const store = session.threads;
  const editor = session.editor;
  const filters = filtersBySession.get(session) ?? { status: '', org: '', stance: '' };
  filtersBySession.set(session, filters);
  const cards = new Map<string, ThreadCard>();
  let returnTo: HTMLElement | null = null;

  const status = h('p', { class: 'comments-status', role: 'status' });
  const composeSlot = h('div', { class: 'compose-slot' });
  const mayComment = () => {
    const role = session.role;
    return role !== null && canComment(role);
  };

  const commentButton = h(
    'button',
    {
      type: 'button',
      class: 'button button--primary button--small',
      'aria-keyshortcuts': 'Control+Alt+M',
      'data-testid': 'comment-button',
    },
    t('comments.comment'),
  );
  // Keep the editor's selection when the button is pressed with a mouse.
  commentButton.addEventListener('mousedown', (event) => event.preventDefault());

  const openCompose = () => {
    if (!mayComment()) return;
    const anchor = selectionAnchor(editor);
    if (!anchor) {
      status.textContent = t('comments.noSelection');
      return;
    }
    status.textContent = '';
    const { from, to } = editor.state.selection;
    const quote = editor.state.doc.textBetween(from, to, '\n');
    const form = composeForm({
      store,
      anchor,
      quote,
      onDone: (thread) => {
        replaceChildren(composeSlot);
        if (thread) {
          announce(t('comments.created'));
          const card = cards.get(thread.id);
          if (card) card.el.focus();
          else commentButton.focus();
        } else {
          commentButton.focus();
        }
      },
    });
    replaceChildren(composeSlot, form.el);
    form.focus();
  };
  commentButton.addEventListener('click', openCompose);

  // Filters.
  const statusId = uid('filter-status');
  const orgId = uid('filter-org');
  const stanceId = uid('filter-stance');
  const option = (value: string, label: string, selected: string) =>
    h('option', { value, selected: value === selected }, label);
  const statusSelect = h(
    'select',
    { id: statusId },
    option('', t('comments.filter.all'), filters.status),
    option('open', t('comments.status.open'), filters.status),
    option('resolved', t('comments.status.resolved'), filters.status),
  );
  const orgSelect = h('select', { id: orgId });
  const stanceSelect = h(
    'select',
    { id: stanceId },
    option('', t('comments.filter.all'), filters.stance),
    STANCES.map((s) => option(s, t(`stance.${s}` as MessageKey), filters.stance)),
    option('none', t('comments.filter.noStance'), filters.stance),
  );
  const filterForm = h(
    'fieldset',
    { class: 'comments-filters' },
    h('legend', {}, t('comments.filter.title')),
    h(
      'div',
      { class: 'field' },
      h('label', { for: statusId }, t('comments.filter.status')),
      statusSelect,
    ),
    h('div', { class: 'field' }, h('label', { for: orgId }, t('comments.filter.org')), orgSelect),
    h(
      'div',
      { class: 'field' },
      h('label', { for: stanceId }, t('comments.filter.stance')),
      stanceSelect,
    ),
  );
  const onFilter = () => {
    filters.status = statusSelect.value as Filters['status'];
    filters.org = orgSelect.value;
    filters.stance = stanceSelect.value;
    draw();
  };
  for (const select of [statusSelect, orgSelect, stanceSelect])
    select.addEventListener('change', onFilter);

  const count = h('p', { class: 'comments-count muted' });
  const list = h('ol', { class: 'thread-list', 'data-testid': 'thread-list' });
  const orphanList = h('ol', { class: 'thread-list' });
  const orphanHeadingId = uid('orphaned-heading');
  const orphanSection = h(
    'section',
    {
      class: 'orphaned',
      'aria-labelledby': orphanHeadingId,
      'data-testid': 'orphaned',
      hidden: true,
    },
    h('h3', { id: orphanHeadingId }, t('comments.orphaned.title')),
    h('p', { class: 'hint' }, t('comments.orphaned.intro')),
    orphanList,
  );

  const matches = (thread: Thread) =>
    (!filters.status || thread.status === filters.status) &&
    (!filters.org || thread.org === filters.org) &&
    (!filters.stance || (thread.stance ?? 'none') === filters.stance);

  const showInText = (thread: Thread, from: HTMLElement) => {
    const anchor = decodeAnchor(thread.anchor);
    const range = anchor && anchorRange(editor.state, anchor);
    store.setActive(thread.id);
    for (const card of cards.values()) card.setActive(card.id === thread.id);
    if (!range) return;
    returnTo = from;
    const view = editor.view;
    view.focus();
    const start = view.domAtPos(range.from);
    const end = view.domAtPos(range.to);
    const selection = window.getSelection();
    if (selection) {
      const dom = document.createRange();
      dom.setStart(start.node, start.offset);
      dom.setEnd(end.node, end.offset);
      selection.removeAllRanges();
      selection.addRange(dom);
    }
    const target = start.node instanceof Element ? start.node : start.node.parentElement;
    target?.scrollIntoView({ block: 'center' });
    announce(t('comments.thread.backHint'));
  };

  const ctx = {
    store,
    selfId: session.user.id,
    role: () => session.role,
    showInText,
  };

  const reconcile = (target: HTMLElement, threads: Thread[]) => {
    threads.forEach((thread, index) => {
      let card = cards.get(thread.id);
      if (!card) {
        card = new ThreadCard(thread, ctx);
        cards.set(thread.id, card);
      }
      const li =
        card.el.parentElement?.tagName === 'LI' ? card.el.parentElement : h('li', {}, card.el);
      if (target.children[index] !== li) target.insertBefore(li, target.children[index] ?? null);
    });
    while (target.children.length > threads.length) target.lastElementChild?.remove();
  };

  const draw = () => {
    const all = [...store.threads.values()];
    // Organisations present in the threads.
    const orgs = new Map(all.map((th) => [th.org, th.orgName]));
    if (filters.org && !orgs.has(filters.org)) orgs.set(filters.org, filters.org);
    replaceChildren(
      orgSelect,
      option('', t('comments.filter.all'), filters.org),
      [...orgs.entries()]
        .sort((a, b) => a[1].localeCompare(b[1], 'sv'))
        .map(([id, name]) => option(id, name, filters.org)),
    );
    const shown = all.filter(matches);
    const attached = shown
      .filter((th) => th.anchor.state !== 'orphaned')
      .sort((a, b) => order(a, b, false));
    const orphaned = shown
      .filter((th) => th.anchor.state === 'orphaned')
      .sort((a, b) => order(a, b, true));
    reconcile(list, attached);
    reconcile(orphanList, orphaned);
    orphanSection.hidden = orphaned.length === 0;
    if (store.load === 'loading') count.textContent = t('comments.loading');
    else if (store.load === 'error') count.textContent = t('comments.loadFailed');
    else if (all.length === 0) count.textContent = t('comments.none');
    else if (shown.length === 0) count.textContent = t('comments.empty');
    else count.textContent = t('comments.count', { shown: shown.length, total: all.length });
  };

  const offStore = store.subscribe((changed) => {
    if (changed) cards.get(changed.id)?.update(changed);
    else
      for (const card of cards.values()) {
        const thread = store.threads.get(card.id);
        if (thread) card.update(thread);
      }
    draw();
  });
  draw();
  for (const card of cards.values()) card.setActive(card.id === store.active);

  // Ctrl+Alt+M in the text opens the form; Escape goes back to the thread shown.
  const dom = editor.view.dom as HTMLElement;
  const onKeydown = (event: KeyboardEvent) => {
    if (event.ctrlKey && event.altKey && event.code === 'KeyM') {
      event.preventDefault();
      openCompose();
    } else if (event.key === 'Escape' && returnTo?.isConnected) {
      event.preventDefault();
      returnTo.focus();
      returnTo = null;
    }
  };
  // A click on a highlighted range brings its thread forward.
  const onClick = (event: MouseEvent) => {
    if (!editor.state.selection.empty) return;
    const mark = (event.target as Element | null)?.closest?.('.thread-highlight');
    const id = mark?.getAttribute('data-thread-id');
    const card = id ? cards.get(id) : undefined;
    if (!id || !card) return;
    store.setActive(id);
    for (const other of cards.values()) other.setActive(other.id === id);
    card.el.scrollIntoView({ block: 'nearest' });
  };
  dom.addEventListener('keydown', onKeydown);
  dom.addEventListener('click', onClick);

  const el = h(
    'aside',
    {
      id: COMMENTS_PANEL_ID,
      class: 'comments-margin',
      'aria-labelledby': 'comments-heading',
      'data-testid': 'comments-margin',
    },
    h('h2', { id: 'comments-heading' }, t('comments.title')),
    mayComment()
      ? h(
          'div',
          { class: 'comments-new' },
          h('p', { class: 'hint' }, t('comments.intro')),
          commentButton,
          status,
        )
      : session.role === 'viewer'
        ? h('p', { class: 'hint' }, t('comments.viewerNote'))
        : null,
    composeSlot,
    filterForm,
    count,
    list,
    orphanSection,
  );
  return {
    el,
    destroy() {
      offStore();
      dom.removeEventListener('keydown', onKeydown);
      dom.removeEventListener('click', onClick);
    },
  };
}

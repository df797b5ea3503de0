/**
 * The comment threads of the document: a bar above the text (filters, count, keyboard
 * help) and the margin on the right, where each thread's card sits beside its text
 * (`MarginLayout`). "Kommentera" (button, or Ctrl+Alt+M in the text) opens a form for the
 * selected range beside it; threads whose text is gone sit in their own section with
 * their original quote, and their author or an owner can anchor them to a new selection.
 *
 * The threads live in the session's `ThreadStore` (kept current by live events). Where
 * each anchor is now is read from the local text on every change, so a card follows its
 * text, and one whose text was deleted moves to the orphaned section at once.
 */
import { api } from '../api/client';
import { describeError, Refusal } from '../api/errors';
import type { Thread } from '../api/types';
import { canComment } from '../api/types';
import { announce } from '../app/announce';
import type { DocumentSession } from '../documents/session';
import { h, replaceChildren, uid } from '../dom';
import { t } from '../i18n';
import {
  anchorPoints,
  anchorRange,
  type DecodedAnchor,
  decodeAnchor,
  selectionAnchor,
  textTop,
} from './anchors';
import { composeForm } from './compose';
import { emptyFilters, type Filters, filterBar, matchesFilters } from './filters';
import { type MarginItem, MarginLayout } from './margin-layout';
import { ThreadCard } from './thread-card';

export interface CommentsPanel {
  /** The margin (an `aside`). */
  el: HTMLElement;
  /** The filter bar, shown above the text and the margin. */
  bar: HTMLElement;
  /** Brings a thread forward (from the Remiss tab's matrix): activates and focuses it. */
  focusThread(id: string): void;
  destroy(): void;
}

export const COMMENTS_PANEL_ID = 'comments-panel';

const filtersBySession = new WeakMap<DocumentSession, Filters>();

/** A thread as it stands in the local text: where it is now, and what it quotes. */
interface Located {
  thread: Thread;
  from: number | null;
}

export function commentsPanel(session: DocumentSession): CommentsPanel {
  const store = session.threads;
  const editor = session.editor;
  const filters = filtersBySession.get(session) ?? emptyFilters();
  filtersBySession.set(session, filters);
  const cards = new Map<string, ThreadCard>();
  const decoded = new Map<string, { key: string; anchor: DecodedAnchor | null }>();
  let returnTo: HTMLElement | null = null;
  let composeTop: (() => number | null) | null = null;
  let orderKey = '';

  const status = h('p', { class: 'comments-status', role: 'status' });
  const composeSlot = h('div', { class: 'compose-slot' });
  const mayComment = () => {
    const role = session.role;
    return role !== null && canComment(role);
  };

  /** The thread with its anchor read against the local text (once the text has synced). */
  const locate = (thread: Thread): Located => {
    const key = `${thread.anchor.start}|${thread.anchor.end}`;
    let entry = decoded.get(thread.id);
    if (entry?.key !== key) {
      entry = { key, anchor: decodeAnchor(thread.anchor) };
      decoded.set(thread.id, entry);
    }
    if (!entry.anchor || !session.connection.status.everSynced) {
      return { thread, from: thread.anchor.state === 'orphaned' ? null : -1 };
    }
    // An insertion suggestion's anchor is a point: collapsed, yet attached.
    const range =
      thread.anchor.originalQuote === ''
        ? anchorPoints(editor.state, entry.anchor)
        : anchorRange(editor.state, entry.anchor);
    if (!range) {
      return { thread: withAnchorState(thread, 'orphaned', ''), from: null };
    }
    const quote = editor.state.doc.textBetween(range.from, range.to, '\n');
    const state = quote === thread.anchor.originalQuote ? 'attached' : 'changed';
    return { thread: withAnchorState(thread, state, quote), from: range.from };
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

  /** The open compose form, told when the round closes under it. */
  let compose: { closeForRound(reason: string): void } | null = null;
  const closeCompose = () => {
    compose = null;
    replaceChildren(composeSlot);
    composeTop = null;
    layout.schedule();
  };

  const openCompose = () => {
    if (!mayComment()) return;
    const accepting = session.remiss.acceptingThreads;
    if (accepting === false) {
      status.textContent = t('comments.closed');
      announce(t('comments.closed'));
      return;
    }
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
        closeCompose();
        if (thread) {
          announce(t('comments.created'));
          activate(thread.id);
          const card = cards.get(thread.id);
          if (card) card.el.focus();
          else commentButton.focus();
        } else {
          commentButton.focus();
        }
      },
    });
    compose = form;
    composeTop = () => textTop(editor.view, Math.min(from, editor.state.doc.content.size));
    replaceChildren(composeSlot, form.el);
    layout.schedule();
    // Focus the form once the layout has put it beside the selection (this frame runs
    // after the layout's): focused before that, at the top of the margin, it made the
    // browser scroll the page up there, away from the text being commented.
    requestAnimationFrame(() => {
      if (!form.el.isConnected) return;
      form.focus({ preventScroll: true });
      form.el.scrollIntoView({ block: 'nearest' });
    });
  };
  commentButton.addEventListener('click', openCompose);

  const list = h('ol', { class: 'thread-list', 'data-testid': 'thread-list' });
  const track = h(
    'div',
    { class: 'margin-track', 'data-testid': 'margin-track' },
    composeSlot,
    list,
  );
  const orphanList = h('ol', { class: 'thread-list' });
  const orphanHeadingId = uid('orphaned-heading');
  const orphanSection = h(
    'section',
    {
      class: 'orphaned',
      'aria-labelledby': orphanHeadingId,
      'data-testid': 'orphaned',
      tabindex: '-1',
      hidden: true,
    },
    h('h3', { id: orphanHeadingId }, t('comments.orphaned.title')),
    h('p', { class: 'hint' }, t('comments.orphaned.intro')),
    orphanList,
  );
  const bar = filterBar(
    filters,
    () => draw(),
    () => (orphanSection.hidden ? null : orphanSection),
  );

  const activate = (id: string | null) => {
    store.setActive(id);
    for (const card of cards.values()) card.setActive(card.id === id);
    layout.schedule();
  };

  const showInText = (thread: Thread, from: HTMLElement) => {
    const anchor = decodeAnchor(thread.anchor);
    const range = anchor && anchorRange(editor.state, anchor);
    activate(thread.id);
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

  const reanchor = async (thread: Thread): Promise<Thread> => {
    const anchor = selectionAnchor(editor);
    if (!anchor) throw new Refusal(t('comments.reanchor.noSelection'));
    return api.reanchor(store.docId, thread.id, anchor);
  };

  const ctx = {
    store,
    selfId: session.user.id,
    role: () => session.role,
    showInText,
    toggle: (thread: Thread) => activate(store.active === thread.id ? null : thread.id),
    reanchor,
    closed: () => session.remiss.acceptingThreads === false,
  };

  const reconcile = (target: HTMLElement, located: Located[]) => {
    located.forEach(({ thread }, index) => {
      let card = cards.get(thread.id);
      if (!card) {
        card = new ThreadCard(thread, ctx);
        card.setActive(thread.id === store.active);
        cards.set(thread.id, card);
        layout.observe(card.el);
      } else {
        card.update(thread);
      }
      const li =
        card.el.parentElement?.tagName === 'LI' ? card.el.parentElement : h('li', {}, card.el);
      if (target.children[index] !== li) target.insertBefore(li, target.children[index] ?? null);
    });
    while (target.children.length > located.length) target.lastElementChild?.remove();
  };

  /** Which cards are where, in order; a change means the lists must be drawn again. */
  const partition = () => {
    const all = [...store.threads.values()];
    const located = all.filter((th) => matchesFilters(filters, th)).map(locate);
    const attached = located
      .filter((l) => l.from !== null)
      .sort(
        (a, b) =>
          (a.from ?? 0) - (b.from ?? 0) ||
          (a.thread.anchor.paragraph ?? 0) - (b.thread.anchor.paragraph ?? 0) ||
          a.thread.createdAt - b.thread.createdAt,
      );
    const orphaned = located
      .filter((l) => l.from === null)
      .sort(
        (a, b) =>
          (a.thread.anchor.originalParagraph ?? Number.MAX_SAFE_INTEGER) -
            (b.thread.anchor.originalParagraph ?? Number.MAX_SAFE_INTEGER) ||
          a.thread.createdAt - b.thread.createdAt,
      );
    const key = [...attached, { thread: { id: '|' } }, ...orphaned]
      .map((l) => l.thread.id)
      .join(',');
    return { all, attached, orphaned, key };
  };

  const draw = () => {
    const { all, attached, orphaned, key } = partition();
    orderKey = key;
    reconcile(list, attached);
    reconcile(orphanList, orphaned);
    orphanSection.hidden = orphaned.length === 0;
    bar.update(all, attached.length + orphaned.length, orphaned.length, store.load);
    layout.schedule();
  };

  const marginItems = (): MarginItem[] => {
    // The text may have moved threads in or out of the orphaned section.
    const now = partition();
    if (now.key !== orderKey) draw();
    else
      for (const l of [...now.attached, ...now.orphaned]) cards.get(l.thread.id)?.update(l.thread);
    const items: MarginItem[] = [];
    if (composeTop && composeSlot.firstChild) {
      items.push({ el: composeSlot, anchorTop: composeTop() });
    }
    for (const l of now.attached) {
      const li = cards.get(l.thread.id)?.el.parentElement;
      if (!li) continue;
      items.push({
        el: li,
        anchorTop: l.from !== null && l.from >= 0 ? textTop(editor.view, l.from) : null,
      });
    }
    return items;
  };
  const layout = new MarginLayout(track, marginItems);
  layout.observe(session.editorHost);

  // Owners accept every open suggestion, or one organisation's, in one go.
  const bulk = h('div', {
    class: 'suggest-bulk',
    role: 'group',
    'aria-label': t('suggest.bulkLabel'),
    'data-testid': 'suggest-bulk',
  });
  const acceptMany = async (body: { org: string } | { all: true }, button: HTMLElement) => {
    button.setAttribute('aria-disabled', 'true');
    try {
      const answer = await api.acceptSuggestions(store.docId, body);
      const message = t('suggest.bulkDone', {
        decided: answer.decided.length,
        skipped: answer.skipped.length,
      });
      status.textContent = message;
      announce(message);
    } catch (failure) {
      status.textContent = t('suggest.bulkFailed', { message: describeError(failure) });
    } finally {
      button.removeAttribute('aria-disabled');
    }
  };
  let bulkKey = '';
  const drawBulk = () => {
    if (session.role !== 'owner') return;
    const orgs = new Map<string, string>();
    for (const thread of store.threads.values()) {
      if (thread.status === 'open' && thread.proposal !== null && thread.proposal !== undefined)
        orgs.set(thread.org, thread.orgName);
    }
    const key = [...orgs.entries()].map((e) => e.join('=')).join('|');
    if (key === bulkKey) return;
    bulkKey = key;
    const button = (label: string, body: { org: string } | { all: true }) => {
      const b = h('button', { type: 'button', class: 'button button--small' }, label);
      b.addEventListener('click', () => {
        if (b.getAttribute('aria-disabled') !== 'true') void acceptMany(body, b);
      });
      return b;
    };
    replaceChildren(
      bulk,
      orgs.size > 0 ? button(t('suggest.acceptAll'), { all: true }) : null,
      [...orgs.entries()].map(([org, name]) =>
        button(t('suggest.acceptOrg', { org: name }), { org }),
      ),
    );
    bulk.hidden = orgs.size === 0;
  };
  bulk.hidden = true;

  const offStore = store.subscribe(() => {
    draw();
    drawBulk();
  });
  draw();
  drawBulk();

  // Ctrl+Alt+M in the text opens the form; Escape goes back to the thread shown. AltGr
  // (which some browsers report as Ctrl+Alt) types characters such as µ: leave it alone.
  const dom = editor.view.dom as HTMLElement;
  const onKeydown = (event: KeyboardEvent) => {
    if (
      event.ctrlKey &&
      event.altKey &&
      event.code === 'KeyM' &&
      !event.getModifierState('AltGraph')
    ) {
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
    const mark = (event.target as Element | null)?.closest?.(
      '.thread-highlight, [data-suggestion]',
    );
    const id = mark?.getAttribute('data-thread-id');
    const card = id ? cards.get(id) : undefined;
    if (!id || !card) return;
    activate(id);
    card.el.scrollIntoView({ block: 'nearest' });
  };
  const onTransaction = () => layout.schedule();
  dom.addEventListener('keydown', onKeydown);
  dom.addEventListener('click', onClick);
  editor.on('transaction', onTransaction);
  const closedNoteId = uid('comments-closed');
  const closedNote = h(
    'p',
    { id: closedNoteId, class: 'comments-closed hint', hidden: true },
    t('comments.closed'),
  );
  let wasClosed = false;
  let drawn = false;
  const drawClosed = () => {
    const closed = session.remiss.acceptingThreads === false;
    if (closed === wasClosed) return;
    wasClosed = closed;
    closedNote.hidden = !closed;
    if (closed) commentButton.setAttribute('aria-describedby', closedNoteId);
    else commentButton.removeAttribute('aria-describedby');
    for (const card of cards.values()) card.refresh();
    // Closed while the page is open (the svarsdatum passed, or the owners closed the
    // round): say so at once, politely, and stop the forms that would be refused.
    if (closed && drawn && mayComment()) {
      const message = t('comments.closedNow');
      status.textContent = message;
      compose?.closeForRound(t('comments.compose.closedKept'));
    }
  };
  drawClosed();
  drawn = true;
  const offRemiss = session.remiss.subscribe(drawClosed);

  const el = h(
    'aside',
    {
      id: COMMENTS_PANEL_ID,
      class: 'comments-margin',
      'aria-labelledby': 'comments-heading',
      'data-testid': 'comments-margin',
    },
    h(
      'div',
      { class: 'comments-head' },
      h('h2', { id: 'comments-heading' }, t('comments.title')),
      mayComment() ? commentButton : null,
    ),
    mayComment() ? closedNote : null,
    mayComment() ? status : null,
    session.role === 'owner' ? bulk : null,
    session.role === 'viewer' ? h('p', { class: 'hint' }, t('comments.viewerNote')) : null,
    track,
    orphanSection,
  );
  return {
    el,
    bar: bar.el,
    focusThread(id) {
      activate(id);
      const card = cards.get(id);
      if (!card) return;
      card.el.scrollIntoView({ block: 'nearest' });
      if (!card.el.hasAttribute('tabindex')) card.el.tabIndex = -1;
      card.el.focus();
    },
    destroy() {
      offStore();
      offRemiss();
      layout.destroy();
      editor.off('transaction', onTransaction);
      dom.removeEventListener('keydown', onKeydown);
      dom.removeEventListener('click', onClick);
    },
  };
}

/** The last local view made of each server thread, so an unchanged one is not redrawn. */
const views = new WeakMap<Thread, Thread>();

/** `thread` with its anchor as the local text has it (the same object while unchanged). */
function withAnchorState(thread: Thread, state: Thread['anchor']['state'], quote: string): Thread {
  if (thread.anchor.state === state && thread.anchor.quote === quote) return thread;
  const seen = views.get(thread);
  if (seen && seen.anchor.state === state && seen.anchor.quote === quote) return seen;
  const view = { ...thread, anchor: { ...thread.anchor, state, quote } };
  views.set(thread, view);
  return view;
}

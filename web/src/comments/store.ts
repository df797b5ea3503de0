/**
 * The threads of one open document: loaded from the API, kept current by the live
 * events and by the answers to this client's own requests, and mirrored into the
 * editor's highlight decorations. It lives as long as the document session (a language
 * switch redraws the margin but keeps this).
 */
import type { Editor } from '@tiptap/core';
import type { WebsocketProvider } from 'y-websocket';
import { api } from '../api/client';
import type { Thread } from '../api/types';
import { announce } from '../app/announce';
import { t } from '../i18n';
import { decodeAnchor } from './anchors';
import { Following } from './following';
import {
  type HighlightAnchor,
  setActiveHighlight,
  setHighlights,
  threadHighlightPlugin,
} from './highlight';
import { subscribeThreadEvents } from './live';
import { readonlyKeyboardSelection } from './readonly-selection';

export type ThreadsLoad = 'loading' | 'ready' | 'error';

export class ThreadStore {
  readonly threads = new Map<string, Thread>();
  readonly api = api;
  /** What this user follows in the document (threads, the whole document). */
  readonly following: Following;
  load: ThreadsLoad = 'loading';
  active: string | null = null;
  private readonly listeners = new Set<(changed: Thread | null) => void>();
  private readonly offEvents: () => void;
  private readonly offKeys: () => void;
  private loadSeq = 0;

  constructor(
    readonly docId: string,
    private readonly editor: Editor,
    provider: WebsocketProvider,
    private readonly selfId: string,
  ) {
    this.following = new Following(docId);
    editor.registerPlugin(threadHighlightPlugin());
    this.offKeys = readonlyKeyboardSelection(editor);
    this.offEvents = subscribeThreadEvents(
      provider,
      (thread) => this.receive(thread, true),
      () => void this.reload(),
    );
    void this.reload();
  }

  subscribe(listener: (changed: Thread | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads all threads again (at start and after each reconnect: events may be missed). */
  async reload(): Promise<void> {
    const seq = ++this.loadSeq;
    try {
      const list = await api.threads(this.docId);
      if (seq !== this.loadSeq) return;
      void this.following.load();
      this.threads.clear();
      for (const thread of list) this.threads.set(thread.id, thread);
      this.load = 'ready';
    } catch {
      if (seq !== this.loadSeq) return;
      if (this.load !== 'ready') this.load = 'error';
    }
    this.changed(null);
  }

  /** A thread from an event or from an answer to our own request. */
  receive(thread: Thread, live = false): void {
    if (thread.document && thread.document !== this.docId) return;
    const before = this.threads.get(thread.id);
    if (before && before.updatedAt > thread.updatedAt) return;
    this.threads.set(thread.id, thread);
    // An answer to one's own request: writing in a thread follows it.
    if (!live) void this.following.load();
    if (live) {
      const known = new Set(before?.comments.map((c) => c.id) ?? []);
      const fresh = thread.comments.filter(
        (c) => !known.has(c.id) && !c.deleted && c.author !== this.selfId,
      );
      for (const comment of fresh) announce(t('comments.announce.new', { org: comment.orgName }));
      if (
        before &&
        before.status !== thread.status &&
        thread.resolution?.resolvedBy !== this.selfId
      ) {
        announce(
          thread.status === 'resolved'
            ? t('comments.announce.resolved', { org: thread.orgName })
            : t('comments.announce.reopened', { org: thread.orgName }),
        );
      }
    }
    this.changed(thread);
  }

  setActive(id: string | null): void {
    this.active = id;
    setActiveHighlight(this.editor, id);
  }

  destroy(): void {
    this.offEvents();
    this.offKeys();
    this.listeners.clear();
  }

  private changed(thread: Thread | null): void {
    const anchors: HighlightAnchor[] = [];
    for (const item of this.threads.values()) {
      if (item.status !== 'open' || item.anchor.state === 'orphaned') continue;
      const anchor = decodeAnchor(item.anchor);
      if (anchor) anchors.push({ id: item.id, anchor });
    }
    setHighlights(this.editor, anchors);
    for (const listener of this.listeners) listener(thread);
  }
}

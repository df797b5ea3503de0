/**
 * Following (issue 17): which threads, and whether the whole document, reach me with
 * their new replies and threads. The server decides who is told; this keeps what the
 * page shows of it (`GET …/following`) and the toggle buttons, each a pressed/unpressed
 * button (`aria-pressed`) with a fixed name, so its state is read out without the label
 * changing under the user's focus. Opening a thread card follows that thread unless the
 * user chose not to (`POST …/opened`).
 */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import type { Following as FollowingState } from '../api/types';
import { announce } from '../app/announce';
import { h } from '../dom';
import { t } from '../i18n';

export class Following {
  document = false;
  threads = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private seq = 0;

  constructor(private readonly docId: string) {}

  /** Reads the state again (on load, and after one's own comments: writing follows). */
  async load(): Promise<void> {
    await this.apply(() => api.following(this.docId));
  }

  /** The user opened a thread's card. */
  async opened(threadId: string): Promise<void> {
    if (this.threads.has(threadId)) return;
    await this.apply(() => api.threadOpened(this.docId, threadId));
  }

  async setThread(threadId: string, on: boolean): Promise<void> {
    await this.apply(() => api.followThread(this.docId, threadId, on), true);
  }

  async setDocument(on: boolean): Promise<void> {
    await this.apply(() => api.followDocument(this.docId, on), true);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async apply(call: () => Promise<FollowingState>, chosen = false): Promise<void> {
    const seq = ++this.seq;
    try {
      const state = await call();
      if (seq !== this.seq && !chosen) return;
      this.document = state.document;
      this.threads = new Set(state.threads);
      for (const listener of this.listeners) listener();
    } catch (error) {
      if (chosen) announce(t('follow.failed', { message: describeError(error) }));
    }
  }
}

/**
 * A toggle button bound to one part of `following`; it stops listening once it has
 * been removed from the page.
 */
function toggle(
  following: Following,
  label: string,
  isOn: () => boolean,
  set: (on: boolean) => Promise<void>,
  said: (on: boolean) => string,
  testId: string,
): HTMLButtonElement {
  const button = h(
    'button',
    {
      type: 'button',
      class: 'button button--small follow-toggle',
      'aria-pressed': String(isOn()),
      'data-testid': testId,
    },
    label,
  );
  let seen = false;
  const off = following.subscribe(() => {
    if (button.isConnected) seen = true;
    else if (seen) {
      off();
      return;
    }
    button.setAttribute('aria-pressed', String(isOn()));
  });
  button.addEventListener('click', () => {
    const on = !isOn();
    button.disabled = true;
    void set(on).then(() => {
      button.disabled = false;
      if (isOn() === on) announce(said(on));
    });
  });
  return button;
}

/** "Följ tråden": follow or unfollow one thread. */
export function followThreadButton(following: Following, threadId: string): HTMLButtonElement {
  return toggle(
    following,
    t('follow.thread'),
    () => following.threads.has(threadId),
    (on) => following.setThread(threadId, on),
    (on) => t(on ? 'follow.threadOn' : 'follow.threadOff'),
    'follow-thread',
  );
}

/** "Följ dokumentet": follow or unfollow the whole document. */
export function followDocumentButton(following: Following): HTMLButtonElement {
  return toggle(
    following,
    t('follow.document'),
    () => following.document,
    (on) => following.setDocument(on),
    (on) => t(on ? 'follow.documentOn' : 'follow.documentOff'),
    'follow-document',
  );
}

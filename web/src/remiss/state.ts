/**
 * The remiss round of the open document, shared by the margin (may a thread be opened
 * now?) and the Remiss panel. Read at start, after a reconnect, when the tab becomes
 * visible and after each change made here; a server without remiss support (404) leaves
 * it unknown, and the margin then lets the server decide.
 */
import { ApiError, api } from '../api/client';
import type { RemissRound } from '../api/types';

export type RemissLoad = 'loading' | 'ready' | 'unsupported' | 'error';

export class RemissState {
  round: RemissRound | null = null;
  load: RemissLoad = 'loading';
  error: unknown = null;
  private readonly listeners = new Set<() => void>();
  private seq = 0;

  constructor(readonly docId: string) {
    void this.reload();
  }

  /** True or false once known; null while unknown (then the server decides). */
  get acceptingThreads(): boolean | null {
    return this.round ? this.round.acceptingThreads : null;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async reload(): Promise<void> {
    const seq = ++this.seq;
    try {
      const round = await api.remiss(this.docId);
      if (seq !== this.seq) return;
      this.set(round);
    } catch (error) {
      if (seq !== this.seq) return;
      this.error = error;
      this.load = error instanceof ApiError && error.status === 404 ? 'unsupported' : 'error';
      this.changed();
    }
  }

  /** An answer of the server to a change made here. */
  set(round: RemissRound): void {
    this.round = round;
    this.load = 'ready';
    this.error = null;
    this.changed();
  }

  destroy(): void {
    this.listeners.clear();
    this.seq += 1;
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

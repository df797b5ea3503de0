/**
 * The remiss round of the open document, shared by the margin (may a thread be opened
 * now?) and the Remiss panel. Read at start, after a reconnect, when the tab becomes
 * visible and after each change made here, and set live by the document socket's round
 * events (`remiss/live.ts`); a server without remiss support (404) leaves it unknown,
 * and the margin then lets the server decide.
 *
 * The svarsdatum passing needs no event: the round carries `closesAt` (midnight in
 * Stockholm after the svarsdatum, the server's rule), and a timer closes the round here
 * at that moment.
 */
import { ApiError, api } from '../api/client';
import type { RemissRound } from '../api/types';

/** The longest wait `setTimeout` takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

export type RemissLoad = 'loading' | 'ready' | 'unsupported' | 'error';

export class RemissState {
  round: RemissRound | null = null;
  load: RemissLoad = 'loading';
  error: unknown = null;
  private readonly listeners = new Set<() => void>();
  private seq = 0;
  private closing: number | null = null;

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
    this.scheduleClosing();
    this.changed();
  }

  destroy(): void {
    this.listeners.clear();
    this.seq += 1;
    this.cancelClosing();
  }

  /** Arms the timer for the svarsdatum's end, if the round is open until then. */
  private scheduleClosing(): void {
    this.cancelClosing();
    const round = this.round;
    if (!round?.acceptingThreads || round.closesAt == null) return;
    const wait = round.closesAt - Date.now();
    // Past already while the server still says open: its clock decides.
    if (wait <= 0) return;
    // setTimeout holds at most ~24.8 days; a later deadline re-arms on the way.
    this.closing = window.setTimeout(
      () => {
        this.closing = null;
        if (Date.now() < (round.closesAt ?? 0)) {
          this.scheduleClosing();
          return;
        }
        this.closeNow();
      },
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
  }

  /**
   * The svarsdatum has passed: closed here at once, as the server now refuses (its next
   * reading of the round, on a reconnect or an event, replaces this one).
   */
  private closeNow(): void {
    if (!this.round) return;
    this.round = { ...this.round, deadlinePassed: true, acceptingThreads: false };
    this.changed();
  }

  private cancelClosing(): void {
    if (this.closing !== null) window.clearTimeout(this.closing);
    this.closing = null;
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

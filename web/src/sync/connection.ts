/**
 * The connection state shown to the user, derived only from what the provider reports,
 * so it never claims more than is true:
 * - `connected` only once the server's sync step 2 arrived on the current socket (the
 *   server closes refused sockets before syncing, so a refusal never shows as connected);
 * - `connecting` before the first sync, `reconnecting` after a sync was lost;
 * - `disconnected` when the server closed with 4400–4499: y-websocket stops retrying
 *   then, and `closeCode` says why (4401 token, 4403 access, 4404 gone, 4409 a client id of someone else's, 4410 archived, 4413, 4400).
 */
import type { WebsocketProvider } from 'y-websocket';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface ConnectionStatus {
  state: ConnectionState;
  /** The application close code that ended the connection for good, if any. */
  closeCode: number | null;
  /** Whether the document has synced at least once (its text is loaded). */
  everSynced: boolean;
}

type Listener = (status: ConnectionStatus) => void;

export class ConnectionTracker {
  private everSynced = false;
  private terminalCode: number | null = null;
  private destroyed = false;
  private last: ConnectionStatus;
  private readonly listeners = new Set<Listener>();
  private readonly unsubscribe: () => void;

  constructor(private readonly provider: WebsocketProvider) {
    this.last = this.compute();
    const onStatus = () => this.update();
    const onSync = (synced: boolean) => {
      if (synced) this.everSynced = true;
      this.update();
    };
    const onClosed = (event: { code: number }) => {
      this.terminalCode = event.code;
      this.update();
    };
    provider.on('status', onStatus);
    provider.on('sync', onSync);
    provider.on('connection-close', onStatus);
    provider.on('closed', onClosed);
    this.unsubscribe = () => {
      provider.off('status', onStatus);
      provider.off('sync', onSync);
      provider.off('connection-close', onStatus);
      provider.off('closed', onClosed);
    };
  }

  get status(): ConnectionStatus {
    return this.last;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  destroy(): void {
    this.destroyed = true;
    this.unsubscribe();
    this.listeners.clear();
  }

  private compute(): ConnectionStatus {
    let state: ConnectionState;
    if (this.terminalCode !== null || this.destroyed) state = 'disconnected';
    else if (this.provider.wsconnected && this.provider.synced) state = 'connected';
    else state = this.everSynced ? 'reconnecting' : 'connecting';
    return { state, closeCode: this.terminalCode, everSynced: this.everSynced };
  }

  private update(): void {
    const next = this.compute();
    if (
      next.state === this.last.state &&
      next.closeCode === this.last.closeCode &&
      next.everSynced === this.last.everSynced
    ) {
      return;
    }
    this.last = next;
    for (const listener of this.listeners) listener(next);
  }
}

/**
 * The document's copy in the browser, and whether the server has everything typed here.
 *
 * Every change is kept in IndexedDB (y-indexeddb), so text typed while the connection is
 * down survives closing the tab and is sent when the document is next opened. Whether
 * the server holds it is asked, not guessed: after local changes the client sends a
 * "saved" marker (message type 101, payload one varuint), and the server answers with the
 * same marker once every update this connection sent before it is stored
 * (`server/src/sync/room/saving.rs`). Until then the page says "Sparat lokalt". A flag in
 * localStorage remembers across closing the tab that this browser holds text the
 * server may lack, so a reopened page says so until the server has answered.
 *
 * Local copies belong to one user: named by user and document, and those the server is
 * known to hold are deleted at sign-out ({@link forgetSavedCopies}).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { IndexeddbPersistence } from 'y-indexeddb';
import type { WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';

export const MESSAGE_SAVED = 101;

/**
 * `saved`: the server has it all; `saving`: on its way (to this browser's store or to the
 * server); `local`: stored in this browser, not yet confirmed by the server.
 */
export type SaveState = 'saved' | 'saving' | 'local';

type Listener = (state: SaveState) => void;

/** Waits this long after the last keystroke before asking, so typing sends few markers. */
const MARKER_DELAY_MS = 300;

const DB_PREFIX = 'forankra-doc';
const UNSAVED_PREFIX = 'forankra-unsaved';

function dbName(userId: string, docId: string): string {
  return `${DB_PREFIX}:${userId}:${docId}`;
}

function unsavedKey(userId: string, docId: string): string {
  return `${UNSAVED_PREFIX}:${userId}:${docId}`;
}

export class LocalCopy {
  private readonly persistence: IndexeddbPersistence;
  private readonly key: string;
  /** Local changes the server has not confirmed. */
  private unsaved: boolean;
  /** A local change came after the last marker was sent. */
  private changedSinceMarker = false;
  /** Every local change so far is committed to IndexedDB. */
  private storedLocally: boolean;
  private localWrites = 0;
  private lastMarker = 0;
  private awaiting: number | null = null;
  private timer: number | null = null;
  private last: SaveState;
  private readonly listeners = new Set<Listener>();
  private readonly off: (() => void)[] = [];

  constructor(
    ydoc: Y.Doc,
    private readonly provider: WebsocketProvider,
    userId: string,
    docId: string,
  ) {
    this.key = unsavedKey(userId, docId);
    this.unsaved = readFlag(this.key);
    this.changedSinceMarker = this.unsaved;
    this.storedLocally = this.unsaved;
    this.persistence = new IndexeddbPersistence(dbName(userId, docId), ydoc);
    this.last = this.compute();

    const onUpdate = (_update: Uint8Array, origin: unknown) => {
      // From the server, or the stored copy read back: not a change made here.
      if (origin === this.provider || origin === this.persistence) return;
      this.unsaved = true;
      this.changedSinceMarker = true;
      this.storedLocally = false;
      writeFlag(this.key, true);
      void this.confirmStoredLocally();
      this.schedule();
      this.update();
    };
    ydoc.on('update', onUpdate);
    this.off.push(() => ydoc.off('update', onUpdate));

    provider.messageHandlers[MESSAGE_SAVED] = (_encoder, decoder) => {
      try {
        const payload = decoding.readVarUint8Array(decoder);
        this.onAnswer(decoding.readVarUint(decoding.createDecoder(payload)));
      } catch {
        // A malformed answer confirms nothing; the next marker asks again.
      }
    };
    // After a (re)connect the client's step 2 (what the server lacks) went out before
    // the server's step 2 arrived, so a marker sent now follows it.
    const onSync = (synced: boolean) => {
      this.awaiting = null;
      if (synced && this.unsaved) this.sendMarker();
      this.update();
    };
    const onStatus = () => this.update();
    // The stored copy is read in after the socket may have synced; what it holds goes
    // out as an update then (the provider sends every change not from the server), so
    // a marker asks only once it is read.
    const onStored = () => {
      if (this.unsaved) this.sendMarker();
    };
    this.persistence.on('synced', onStored);
    provider.on('sync', onSync);
    provider.on('status', onStatus);
    this.off.push(
      () => provider.off('sync', onSync),
      () => provider.off('status', onStatus),
      () => this.persistence.off('synced', onStored),
    );
  }

  get state(): SaveState {
    return this.last;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  destroy(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    for (const off of this.off) off();
    this.listeners.clear();
    delete this.provider.messageHandlers[MESSAGE_SAVED];
    // Closes the database; the stored copy stays.
    void this.persistence.destroy();
  }

  /**
   * Waits until the change just made is committed to IndexedDB. y-indexeddb writes it in
   * a read-write transaction on its `updates` store as the change happens; a read-only
   * transaction on the same store opened after it runs only once that one has committed.
   */
  private async confirmStoredLocally(): Promise<void> {
    const write = ++this.localWrites;
    await this.persistence.whenSynced;
    const db = this.persistence.db;
    if (!db) return;
    await new Promise<void>((resolve) => {
      try {
        const txn = db.transaction(['updates'], 'readonly');
        txn.objectStore('updates').count();
        txn.oncomplete = () => resolve();
        txn.onerror = () => resolve();
        txn.onabort = () => resolve();
      } catch {
        // The database closed (the page is leaving): nothing more can be confirmed.
        resolve();
      }
    });
    if (write !== this.localWrites || !this.unsaved) return;
    this.storedLocally = true;
    this.update();
  }

  private schedule(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      this.timer = null;
      this.sendMarker();
    }, MARKER_DELAY_MS);
  }

  private sendMarker(): void {
    const ws = this.provider.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !this.provider.synced) return;
    if (!this.persistence.synced) return;
    this.lastMarker += 1;
    this.awaiting = this.lastMarker;
    this.changedSinceMarker = false;
    const payload = encoding.encode((e) => encoding.writeVarUint(e, this.lastMarker));
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SAVED);
    encoding.writeVarUint8Array(encoder, payload);
    ws.send(encoding.toUint8Array(encoder));
    this.update();
  }

  private onAnswer(marker: number): void {
    if (this.awaiting === null || marker < this.awaiting) return;
    this.awaiting = null;
    if (!this.changedSinceMarker) {
      this.unsaved = false;
      writeFlag(this.key, false);
    }
    this.update();
  }

  private compute(): SaveState {
    if (!this.unsaved) return 'saved';
    const online = this.provider.wsconnected && this.provider.synced;
    return online || !this.storedLocally ? 'saving' : 'local';
  }

  private update(): void {
    const next = this.compute();
    if (next === this.last) return;
    this.last = next;
    for (const listener of this.listeners) listener(next);
  }
}

/**
 * At sign-out: deletes this browser's copies of documents the server is known to hold,
 * so the next person at a shared computer finds none. A copy with text the server may
 * lack is kept, to be sent when its user next opens the document.
 */
export async function forgetSavedCopies(): Promise<void> {
  if (typeof indexedDB === 'undefined' || !indexedDB.databases) return;
  const databases = await indexedDB.databases().catch(() => []);
  for (const { name } of databases) {
    if (!name?.startsWith(`${DB_PREFIX}:`)) continue;
    const rest = name.slice(DB_PREFIX.length + 1);
    if (readFlag(`${UNSAVED_PREFIX}:${rest}`)) continue;
    indexedDB.deleteDatabase(name);
  }
}

function readFlag(key: string): boolean {
  try {
    return window.localStorage.getItem(key) === '1';
  } catch {
    return false;
  }
}

function writeFlag(key: string, on: boolean): void {
  try {
    if (on) window.localStorage.setItem(key, '1');
    else window.localStorage.removeItem(key);
  } catch {
    // Storage refused (private mode, quota): the IndexedDB copy still holds the text.
  }
}

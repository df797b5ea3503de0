/**
 * One open document: its Y.Doc, the WebSocket provider, the editor, connection and
 * presence trackers, and its metadata. It outlives the view that shows it, so a
 * language switch redraws the page without reconnecting or losing the cursor, and it
 * is destroyed when the user leaves the document.
 *
 * The editor starts read-only and becomes editable only when the role allows it (the
 * server drops updates from viewers and commenters anyway), the text has synced once,
 * and the server has not closed the connection for good.
 */
import type { Editor } from '@tiptap/core';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { api } from '../api/client';
import { describeError } from '../api/errors';
import { canEdit, type DocumentInfo } from '../api/types';
import { announce } from '../app/announce';
import type { Session } from '../auth/session';
import { decodeAnchor } from '../comments/anchors';
import { ThreadStore } from '../comments/store';
import { closeSuggestionPopover, openSuggestionPopover } from '../comments/suggestion-popover';
import { h } from '../dom';
import { AuthorshipMarks, loadAllClients } from '../editor/authorship-marks';
import { createEditor, setEditorAttributes } from '../editor/editor';
import {
  currentText,
  type ShownSuggestion,
  SuggestingMode,
  type SuggestionOpen,
} from '../editor/suggesting';
import { type MessageKey, t } from '../i18n';
import { subscribeRoundEvents } from '../remiss/live';
import { RemissState } from '../remiss/state';
import { ConnectionTracker } from '../sync/connection';
import { CONNECTION_LABEL } from '../sync/indicators';
import { LocalCopy } from '../sync/local-copy';
import { PresenceTracker, type PresenceUser, presenceUser } from '../sync/presence';
import { ticketedWebSocket } from '../sync/ticket-socket';

export type InfoState =
  | { kind: 'loading' }
  | { kind: 'ready'; info: DocumentInfo }
  | { kind: 'error'; error: unknown };

/** Why the text is read-only right now, or null when it is editable. */
export type ReadonlyReason = 'loading' | 'commenter' | 'viewer' | 'offline' | null;

export const EDITOR_ID = 'document-editor';
export const READONLY_NOTE_ID = 'document-readonly-note';

export function websocketBase(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/ws`;
}

export class DocumentSession {
  readonly ydoc = new Y.Doc();
  readonly provider: WebsocketProvider;
  readonly connection: ConnectionTracker;
  /** The copy in this browser, and whether the server has everything typed here. */
  readonly localCopy: LocalCopy;
  readonly presence: PresenceTracker;
  readonly editor: Editor;
  /** The editor's element; views move it into their layout. */
  readonly editorHost: HTMLElement;
  readonly user: PresenceUser;
  /** The comment threads, kept live. */
  readonly threads: ThreadStore;
  /** The remiss round (may threads be opened now, who answered). */
  readonly remiss: RemissState;
  /** Suggesting mode: typing becomes suggestions instead of changes. */
  readonly suggesting: SuggestingMode;
  /** "Visa vem som skrivit" in the text: marks by organisation, and the status line. */
  readonly authorshipMarks: AuthorshipMarks;
  /** An editor's or owner's choice of suggesting mode (commenters always suggest). */
  private suggestChoice = false;
  /** Whether the owners' rule held when the round was last seen (issue 16). */
  private ruleHeld = false;
  infoState: InfoState = { kind: 'loading' };
  /** View state that survives a redraw. */
  readonly ui = { membersOpen: false, authorshipOpen: false, tab: 'text' as 'text' | 'remiss' };
  private readonly infoListeners = new Set<(state: InfoState, previous: InfoState) => void>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    readonly docId: string,
    readonly session: Session,
  ) {
    this.user = presenceUser(session.user);
    // Each socket the provider opens gets a fresh single-use ticket first.
    this.provider = new WebsocketProvider(websocketBase(), docId, this.ydoc, {
      WebSocketPolyfill: ticketedWebSocket(api.wsTicket),
      disableBc: true,
    });
    this.connection = new ConnectionTracker(this.provider);
    this.localCopy = new LocalCopy(this.ydoc, this.provider, session.user.id, docId);
    this.presence = new PresenceTracker(
      this.provider.awareness,
      this.user.id,
      () => this.provider.wsconnected,
    );
    this.editorHost = h('div', { class: 'editor-host' });
    this.editor = createEditor({
      host: this.editorHost,
      ydoc: this.ydoc,
      provider: this.provider,
      user: this.user,
      attributes: this.editorAttributes(),
    });
    this.threads = new ThreadStore(docId, this.editor, this.provider, session.user.id);
    this.remiss = new RemissState(docId);
    this.unsubscribe.push(this.remiss.subscribe(() => this.onRound()));
    // The round live: phase, svarsdatum and answers as others change them; reread after
    // a reconnect (below), when events may have been missed.
    this.unsubscribe.push(
      subscribeRoundEvents(
        this.provider,
        // The event carries the round's own svarsdatum; this page's organisation may have
        // a later one, so it rereads its own view.
        () => void this.remiss.reload(),
        () => {},
      ),
    );
    this.suggesting = new SuggestingMode(this.editor, async ({ anchor, proposal }) => {
      try {
        const thread = await api.createThread(docId, {
          anchor,
          body: '',
          proposal,
          kind: 'suggestion',
        });
        this.threads.receive(thread);
        announce(t('suggest.sent'));
      } catch (error) {
        announce(t('suggest.failed', { message: describeError(error) }));
      }
    });
    this.authorshipMarks = new AuthorshipMarks(
      this.editor,
      this.ydoc,
      () => loadAllClients((after) => api.attributionClients(docId, after)),
      { org: session.user.org, orgName: session.user.orgName },
    );
    this.unsubscribe.push(
      this.threads.subscribe(() => this.suggesting.show(this.shownSuggestions())),
    );
    this.editorHost.addEventListener('suggestion-refused', () =>
      announce(t('suggest.oneParagraph')),
    );
    // A suggestion clicked, or Enter in one: its popover at the text.
    this.editorHost.addEventListener('suggestion-open', (event) => {
      const { id, ...at } = (event as CustomEvent<SuggestionOpen>).detail;
      const known = this.threads.threads.get(id);
      if (known?.status !== 'open') return;
      // The text under it as this editor has it now (the list's state may be older).
      const decoded = decodeAnchor(known.anchor);
      const now = decoded ? currentText(this.editor.state, decoded) : null;
      const changed = now !== null && now !== '' && known.anchor.originalQuote !== '';
      const thread =
        changed && now !== known.anchor.originalQuote
          ? { ...known, anchor: { ...known.anchor, state: 'changed' as const, quote: now } }
          : known;
      openSuggestionPopover(
        {
          thread,
          canDecide: this.role === 'owner',
          decide: (decision, expectedQuote) =>
            api.decideProposal(docId, id, decision, '', expectedQuote),
          receive: (decided) => this.threads.receive(decided),
          returnFocus: () => {
            if (!this.editor.isDestroyed) this.editor.view.focus();
          },
          say: announce,
        },
        at,
      );
    });
    this.unsubscribe.push(closeSuggestionPopover);
    // y-websocket removes the others' presence when its socket drops, then says
    // 'disconnected': from then on their old clocks must not shut out the snapshot the
    // server sends on reconnecting.
    const onDrop = ({ status }: { status: string }) => {
      if (status === 'disconnected') this.presence.forgetAbsent();
    };
    this.provider.on('status', onDrop);
    this.unsubscribe.push(() => this.provider.off('status', onDrop));
    let wasConnected = false;
    const onVisible = () => {
      if (document.visibilityState === 'visible') {
        void this.refreshInfo();
        void this.remiss.reload();
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    this.unsubscribe.push(
      () => document.removeEventListener('visibilitychange', onVisible),
      this.connection.subscribe((status) => {
        // Back after a disconnection: the role may have changed meanwhile.
        if (status.state === 'connected' && wasConnected) {
          this.presence.renew();
          void this.refreshInfo();
          void this.remiss.reload();
        }
        if (status.state === 'connected') wasConnected = true;
        this.applyEditable();
        announce(t('connection.announce', { state: t(CONNECTION_LABEL[status.state]) }));
      }),
      this.localCopy.subscribe((state) => {
        if (state === 'local') announce(t('save.announce.local'));
        if (state === 'saved') announce(t('save.announce.saved'));
      }),
      this.presence.onJoinLeave(({ joined, left }) => {
        const messages = [
          ...joined.map((p) => t('presence.joined', { name: p.name, org: p.org })),
          ...left.map((p) => t('presence.left', { name: p.name, org: p.org })),
        ];
        announce(messages.join(' '));
      }),
    );
    void this.loadInfo();
  }

  onInfo(listener: (state: InfoState, previous: InfoState) => void): () => void {
    this.infoListeners.add(listener);
    return () => this.infoListeners.delete(listener);
  }

  get role() {
    return this.infoState.kind === 'ready' ? this.infoState.info.role : null;
  }

  /**
   * Whether typing becomes suggestions: always for commenters, and for editors while the
   * owners require suggestions in the current phase; otherwise by choice.
   */
  get suggestingOn(): boolean {
    const role = this.role;
    if (role === 'commenter' || this.suggestingLocked) return true;
    return role !== null && canEdit(role) && this.suggestChoice;
  }

  /** Whether the owners require changes to be suggested now (the round says so). */
  get suggestionsRequired(): boolean {
    return this.remiss.round?.suggestionsRequired ?? false;
  }

  /**
   * An editor cannot leave suggesting mode while the owners require suggestions: the
   * server would not store the edits anyway. Owners keep the choice (they decide).
   */
  get suggestingLocked(): boolean {
    return this.role === 'editor' && this.suggestionsRequired;
  }

  /** An editor or owner switches suggesting mode on or off (not while it is locked). */
  setSuggesting(on: boolean): void {
    if (this.suggestingLocked) return;
    this.suggestChoice = on;
    this.applyEditable();
  }

  /**
   * The round changed (loaded, or live): when the owners' rule comes into force, owners
   * start suggesting too (they may switch back); editors are locked in by
   * `suggestingLocked`, and are told either way.
   */
  private onRound(): void {
    const held = this.suggestionsRequired;
    if (held === this.ruleHeld) return;
    this.ruleHeld = held;
    if (held && this.role === 'owner') this.suggestChoice = true;
    if (this.role === 'editor') {
      const phase = this.remiss.round?.phase ?? 'remiss';
      const name = t(`phase.${phase}` as MessageKey).toLowerCase();
      announce(held ? t('suggest.requiredOn', { phase: name }) : t('suggest.requiredOff'));
    }
    this.applyEditable();
  }

  get readonlyReason(): ReadonlyReason {
    const role = this.role;
    if (role === 'viewer') return role;
    const status = this.connection.status;
    if (status.state === 'disconnected') return 'offline';
    if (!role || !status.everSynced) return 'loading';
    return null;
  }

  /** Re-reads the editor's attributes (e.g. after a language change). */
  refreshEditorAttributes(): void {
    setEditorAttributes(this.editor, this.editorAttributes());
  }

  destroy(): void {
    for (const off of this.unsubscribe) off();
    this.infoListeners.clear();
    this.suggesting.destroy();
    this.authorshipMarks.destroy();
    this.threads.destroy();
    this.remiss.destroy();
    this.editor.destroy();
    this.presence.destroy();
    this.connection.destroy();
    this.localCopy.destroy();
    this.provider.destroy();
    this.ydoc.destroy();
  }

  private async loadInfo(): Promise<void> {
    try {
      const info = await api.document(this.docId);
      this.setInfo({ kind: 'ready', info });
    } catch (error) {
      // No such document or no access: stop the socket too (it would be refused).
      this.provider.disconnect();
      this.setInfo({ kind: 'error', error });
    }
  }

  /**
   * Reads the metadata again (after a reconnect, or when the tab becomes visible), so a
   * role changed meanwhile takes effect. The server does not tell an open socket that its
   * role was lowered; it only drops the updates from then on.
   */
  private async refreshInfo(): Promise<void> {
    if (this.infoState.kind !== 'ready') return;
    const known = this.infoState.info;
    try {
      const info = await api.document(this.docId);
      if (info.role !== known.role || info.title !== known.title) {
        this.setInfo({ kind: 'ready', info });
      }
    } catch {
      // A refusal also reaches the socket (4403/4404), which says so; nothing to add.
    }
  }

  private setInfo(state: InfoState): void {
    const previous = this.infoState;
    this.infoState = state;
    // An owner whose page opens while the rule holds starts in suggesting mode.
    if (previous.kind !== 'ready' && state.kind === 'ready' && this.ruleHeld) {
      if (state.info.role === 'owner') this.suggestChoice = true;
    }
    this.applyEditable();
    for (const listener of this.infoListeners) listener(state, previous);
  }

  private applyEditable(): void {
    if (this.editor.isDestroyed) return;
    const role = this.role;
    const writes = role !== null && (canEdit(role) || role === 'commenter');
    const editable = writes && this.readonlyReason === null;
    // Suggesting mode goes on before a commenter's editor becomes editable, so no
    // keystroke can reach the text in between.
    this.suggesting.set(this.suggestingOn);
    if (this.editor.isEditable !== editable) this.editor.setEditable(editable);
    this.refreshEditorAttributes();
  }

  /** The open suggestions to draw in the text, with who made them and when. */
  private shownSuggestions(): ShownSuggestion[] {
    const shown: ShownSuggestion[] = [];
    for (const thread of this.threads.threads.values()) {
      if (thread.kind !== 'suggestion' || thread.status !== 'open') continue;
      if (thread.proposal === null || thread.proposal === undefined) continue;
      if (thread.anchor.state === 'orphaned') continue;
      const anchor = decodeAnchor(thread.anchor);
      if (!anchor) continue;
      const when = new Date(thread.createdAt).toLocaleString('sv-SE');
      const label = t('suggest.title', { name: thread.authorName, org: thread.orgName, when });
      const originalQuote = thread.anchor.originalQuote;
      shown.push({ id: thread.id, anchor, proposal: thread.proposal, label, originalQuote });
    }
    return shown;
  }

  private editorAttributes(): Record<string, string> {
    const title = this.infoState.kind === 'ready' ? this.infoState.info.title : '';
    const attrs: Record<string, string> = {
      id: EDITOR_ID,
      class: 'document-text',
      role: 'textbox',
      'aria-multiline': 'true',
      'aria-label': title ? t('doc.editorLabel', { title }) : t('doc.textLabel'),
      lang: 'sv',
      spellcheck: 'true',
    };
    if (this.readonlyReason === null && this.suggestingOn) {
      attrs['aria-describedby'] = READONLY_NOTE_ID;
    }
    if (this.readonlyReason !== null) {
      // Focusable though read-only: a commenter selects a range by keyboard to comment on.
      attrs.tabindex = '0';
      attrs['aria-readonly'] = 'true';
      attrs['aria-describedby'] = READONLY_NOTE_ID;
    }
    return attrs;
  }
}

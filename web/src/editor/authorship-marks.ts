/**
 * "Visa vem som skrivit" in the text itself (issue 16): while it is on, every run of
 * standing text is underlined by the organisation that wrote it, with a colour AND an
 * underline style of its own (solid, dashed, dotted, double, wavy) and a small label
 * naming the organisation where the run starts, so colour is never the only cue. The
 * label is generated content with empty alternative text (read out amid the text it
 * would garble it); instead a status
 * line beside the toolbar says "Skrivet av …" for the text at the caret and under the
 * pointer, politely announced, which covers keyboard and screen reader users.
 *
 * Who wrote what comes from Yjs itself: every standing item of a Y.XmlText carries the
 * client id that inserted it, and the server binds each client id to the organisation
 * that wrote under it (`GET /api/documents/{id}/attribution/clients`), so a browser
 * cannot claim someone else's text. The walk follows the Y.XmlFragment the editor is
 * bound to in step with the ProseMirror document, using the sync plugin's own mapping
 * (Y type → ProseMirror node) for the sizes of elements, the way y-tiptap turns Yjs
 * positions into ProseMirror ones. It is redone a moment after each Yjs update and the
 * marks are mapped through edits in between; a walk whose end does not land on the
 * document's end (the mapping not yet caught up) is dropped and redone on the next
 * update. Client ids the server has not bound yet (text typed a moment ago) are asked
 * for once more; until then that text is marked "ej sparat ännu".
 *
 * The decorations live in a plugin of their own, apart from suggesting mode's, so both
 * draw at once and neither touches the document.
 */
import type { Editor } from '@tiptap/core';
import type { Node as PmNode } from '@tiptap/pm/model';
import { type EditorState, Plugin, PluginKey } from '@tiptap/pm/state';
import { Decoration, DecorationSet } from '@tiptap/pm/view';
import { ySyncPluginKey } from '@tiptap/y-tiptap';
import * as Y from 'yjs';
import { t } from '../i18n';

/** How long after a Yjs update the marks are recomputed (updates come per keystroke). */
export const MARKS_DEBOUNCE_MS = 250;
/** The palette: each entry a colour with at least 3:1 against the white paper and a style. */
export const MARK_STYLES = 6;
/** Walks retried in a row when the document has not caught up with Yjs yet. */
const MAX_MISSES = 8;
/** Pages of client ids read at most (1000 each). */
const MAX_PAGES = 50;

export interface ClientOrg {
  org: string;
  orgName: string;
}

/** Reads every client id of the document and its organisation, page by page. */
export type ClientsLoader = () => Promise<Map<number, ClientOrg>>;

/** A run of standing text written under one organisation (or an unknown client id). */
interface Run {
  from: number;
  to: number;
  org: string | null;
  orgName: string | null;
}

interface MarksState {
  on: boolean;
  decorations: DecorationSet;
}

type Meta = { on: boolean; decorations: DecorationSet };

export const authorshipMarksKey = new PluginKey<MarksState>('authorship-marks');

/** What the status line should say, or null when there is nothing to say. */
export type StatusListener = (text: string | null) => void;

export class AuthorshipMarks {
  private clients = new Map<number, ClientOrg>();
  /** Client ids asked about once more and still unknown: not asked again. */
  private asked = new Set<number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private active = false;
  private generation = 0;
  /** Walks in a row that found the document not yet rendered; retried a few times only. */
  private misses = 0;
  private hovered: string | null = null;
  private readonly listeners = new Set<StatusListener>();
  private status: string | null = null;
  private readonly onUpdate = () => this.schedule();

  constructor(
    private readonly editor: Editor,
    private readonly ydoc: Y.Doc,
    private readonly load: ClientsLoader,
    /** This browser's own organisation: its own client id is known without asking. */
    private readonly own: ClientOrg,
  ) {
    editor.registerPlugin(this.plugin());
  }

  get on(): boolean {
    return this.active;
  }

  /** Follows the status line's text; returns the unsubscribe. */
  subscribe(listener: StatusListener): () => void {
    this.listeners.add(listener);
    listener(this.status);
    return () => this.listeners.delete(listener);
  }

  /** Turns the marks on (reading who writes under which client id) or off; on again
   * redraws them (the page was redrawn, e.g. in another language). */
  async set(on: boolean): Promise<void> {
    if (this.editor.isDestroyed) return;
    if (on === this.active) {
      if (on) this.recompute();
      return;
    }
    this.active = on;
    this.generation++;
    if (!on) {
      this.ydoc.off('update', this.onUpdate);
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.hovered = null;
      this.dispatch({ on: false, decorations: DecorationSet.empty });
      this.setStatus(null, true);
      return;
    }
    this.setStatus(null, true);
    this.ydoc.on('update', this.onUpdate);
    const generation = this.generation;
    await this.refetch();
    if (generation !== this.generation) return;
    this.recompute();
  }

  destroy(): void {
    this.ydoc.off('update', this.onUpdate);
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
  }

  private async refetch(): Promise<void> {
    try {
      const clients = await this.load();
      clients.set(this.ydoc.clientID, this.own);
      this.clients = clients;
    } catch {
      // The marks still show, the unknown runs as not yet saved; the next update retries.
      this.clients.set(this.ydoc.clientID, this.own);
    }
  }

  private schedule(): void {
    if (!this.active) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.recompute();
    }, MARKS_DEBOUNCE_MS);
  }

  private recompute(): void {
    if (!this.active || this.editor.isDestroyed) return;
    const state = this.editor.state;
    const runs = standingRuns(state, this.clients);
    if (!runs) {
      // The sync plugin has not caught up with Yjs yet: try again shortly, and in any
      // case on the next update.
      this.misses++;
      if (this.misses <= MAX_MISSES) this.schedule();
      return;
    }
    this.misses = 0;
    const unknown = runs.filter((r) => r.org === null).length > 0;
    const fresh = unknownClients(state, this.clients).filter((c) => !this.asked.has(c));
    if (unknown && fresh.length > 0) {
      for (const client of fresh) this.asked.add(client);
      const generation = this.generation;
      void this.refetch().then(() => {
        if (generation === this.generation) this.recompute();
      });
    }
    this.dispatch({ on: true, decorations: draw(state.doc, runs) });
    this.updateStatus();
  }

  private dispatch(meta: Meta): void {
    const view = this.editor.view;
    view.dispatch(view.state.tr.setMeta(authorshipMarksKey, meta).setMeta('addToHistory', false));
  }

  /** Tells the listeners; `always` also when only `on` changed. */
  private setStatus(text: string | null, always = false): void {
    if (text === this.status && !always) return;
    this.status = text;
    for (const listener of this.listeners) listener(text);
  }

  /** The status line: the run under the pointer, else the one at the caret. */
  private updateStatus(state: EditorState = this.editor.state): void {
    if (!this.active) return;
    this.setStatus(this.hovered ?? runLabelAt(state));
  }

  private plugin(): Plugin<MarksState> {
    return new Plugin<MarksState>({
      key: authorshipMarksKey,
      state: {
        init: () => ({ on: false, decorations: DecorationSet.empty }),
        apply(tr, value) {
          const meta = tr.getMeta(authorshipMarksKey) as Meta | undefined;
          if (meta) return meta;
          if (!value.on || !tr.docChanged) return value;
          return { on: true, decorations: value.decorations.map(tr.mapping, tr.doc) };
        },
      },
      props: {
        decorations: (state) => authorshipMarksKey.getState(state)?.decorations,
        handleDOMEvents: {
          mouseover: (_view, event) => {
            if (!this.active) return false;
            const target = event.target instanceof Element ? event.target : null;
            const run = target?.closest<HTMLElement>('[data-author-label]');
            this.hovered = run?.dataset.authorLabel ?? null;
            this.updateStatus();
            return false;
          },
          mouseleave: () => {
            if (!this.active) return false;
            this.hovered = null;
            this.updateStatus();
            return false;
          },
        },
      },
      view: () => ({
        update: (view, previous) => {
          if (!this.active) return;
          const moved = !view.state.selection.eq(previous.selection);
          // The caret moved (by keyboard or click): it speaks now, not the pointer.
          if (moved) this.hovered = null;
          if (
            moved ||
            authorshipMarksKey.getState(view.state) !== authorshipMarksKey.getState(previous)
          ) {
            this.updateStatus(view.state);
          }
        },
      }),
    });
  }
}

/** Reads the pages of `GET …/attribution/clients` into a map, through `page`. */
export async function loadAllClients(
  page: (after: number | undefined) => Promise<{
    clients: { clientId: number; org: string; orgName: string }[];
    nextAfter?: number | null;
  }>,
): Promise<Map<number, ClientOrg>> {
  const clients = new Map<number, ClientOrg>();
  let after: number | undefined;
  for (let n = 0; n < MAX_PAGES; n++) {
    const answer = await page(after);
    for (const c of answer.clients) clients.set(c.clientId, { org: c.org, orgName: c.orgName });
    if (answer.nextAfter === undefined || answer.nextAfter === null) break;
    after = answer.nextAfter;
  }
  return clients;
}

type SyncState = { binding?: { type: Y.XmlFragment; mapping: Map<unknown, unknown> } };

/** The sync plugin's fragment and Y type → ProseMirror node mapping. */
function bindingOf(state: EditorState): SyncState['binding'] | null {
  const sync = ySyncPluginKey.getState(state) as SyncState | undefined;
  return sync?.binding ?? null;
}

/** Calls `visit` with each standing text of `type` and its ProseMirror position; false if
 * an element has no node in the mapping (not rendered yet). Returns the end position. */
function walkTexts(
  type: Y.XmlFragment | Y.XmlElement,
  start: number,
  mapping: Map<unknown, unknown>,
  visit: (text: Y.XmlText, pos: number) => void,
): number | null {
  let pos = start;
  for (let item = type._start; item !== null; item = item.right as Y.Item | null) {
    if (item.deleted || !(item.content instanceof Y.ContentType)) continue;
    const child = item.content.type;
    if (child instanceof Y.XmlText) {
      visit(child, pos);
      pos += child.length;
    } else if (child instanceof Y.XmlElement) {
      const node = mapping.get(child) as PmNode | PmNode[] | undefined;
      if (!node || Array.isArray(node)) return null;
      if (walkTexts(child, pos + 1, mapping, visit) === null) return null;
      pos += node.nodeSize;
    }
  }
  return pos;
}

/** Each standing item of `text` as [from, to, client id], in ProseMirror positions. */
function itemsOf(
  text: Y.XmlText,
  pos: number,
  visit: (from: number, to: number, client: number) => void,
) {
  let index = 0;
  for (let item = text._start; item !== null; item = item.right as Y.Item | null) {
    if (item.deleted || !item.countable) continue;
    visit(pos + index, pos + index + item.length, item.id.client);
    index += item.length;
  }
}

/** The runs of standing text by organisation, or null if the walk and the document
 * disagree (the sync plugin has not rendered the latest Yjs change yet). */
function standingRuns(state: EditorState, clients: Map<number, ClientOrg>): Run[] | null {
  const binding = bindingOf(state);
  if (!binding) return null;
  const runs: Run[] = [];
  const end = walkTexts(binding.type, 0, binding.mapping, (text, pos) =>
    itemsOf(text, pos, (from, to, client) => {
      const who = clients.get(client);
      const org = who?.org ?? null;
      const last = runs[runs.length - 1];
      if (last && last.to === from && last.org === org) last.to = to;
      else runs.push({ from, to, org, orgName: who?.orgName ?? null });
    }),
  );
  if (end !== state.doc.content.size) return null;
  return runs;
}

/** The client ids in the text not in `clients`. */
function unknownClients(state: EditorState, clients: Map<number, ClientOrg>): number[] {
  const binding = bindingOf(state);
  const unknown = new Set<number>();
  if (!binding) return [];
  walkTexts(binding.type, 0, binding.mapping, (text, pos) =>
    itemsOf(text, pos, (_from, _to, client) => {
      if (!clients.has(client)) unknown.add(client);
    }),
  );
  return [...unknown];
}

interface MarkSpec {
  authorLabel: string;
}

/** "Skrivet av …" for a run. */
function labelOf(run: Run): string {
  return run.orgName === null
    ? t('authorship.marks.unknown')
    : t('authorship.marks.by', { org: run.orgName });
}

function draw(doc: PmNode, runs: Run[]): DecorationSet {
  // The organisations in the text, in id order, get the styles in turn.
  const orgs = [...new Set(runs.map((r) => r.org).filter((o): o is string => o !== null))].sort();
  const decorations: Decoration[] = [];
  for (const run of runs) {
    const label = labelOf(run);
    const style = run.org === null ? 'unknown' : String(orgs.indexOf(run.org) % MARK_STYLES);
    const spec: MarkSpec = { authorLabel: label };
    decorations.push(
      Decoration.inline(
        run.from,
        run.to,
        {
          class: `author-mark author-mark--${style}`,
          'data-author-org': run.org ?? '',
          'data-author-label': label,
          title: label,
        },
        spec,
      ),
    );
    // The label where each run starts (each paragraph's first run too): generated
    // content on its first character, not a widget, so the caret moves over it as over
    // plain text (Ctrl+Home, Home, arrows). Its alternative text is empty: read out amid
    // the text it would garble it; the status line speaks instead.
    const short = run.orgName ?? t('authorship.marks.unknownShort');
    decorations.push(
      Decoration.inline(run.from, firstCharacterEnd(doc, run.from, run.to), {
        class: `author-start author-start--${style}`,
        'data-author-name': short,
      }),
    );
  }
  return DecorationSet.create(doc, decorations);
}

/** The end of the character at `from`: a surrogate pair is not split between spans. */
function firstCharacterEnd(doc: PmNode, from: number, to: number): number {
  if (to - from < 2) return to;
  const code = doc.textBetween(from, from + 1).charCodeAt(0);
  return code >= 0xd800 && code <= 0xdbff ? from + 2 : from + 1;
}

/** The label of the run at the caret: the character before it, else the one after. */
function runLabelAt(state: EditorState): string | null {
  const decorations = authorshipMarksKey.getState(state)?.decorations;
  if (!decorations) return null;
  const { head } = state.selection;
  const inline = (from: number, to: number) =>
    decorations.find(
      from,
      to,
      (spec) => typeof (spec as Partial<MarkSpec>).authorLabel === 'string',
    );
  const before = inline(Math.max(0, head - 1), head).find(
    (d) => d.from <= head - 1 && d.to >= head,
  );
  const after = inline(head, head + 1).find((d) => d.from <= head && d.to >= head + 1);
  const hit = before ?? after;
  return hit ? (hit.spec as MarkSpec).authorLabel : null;
}

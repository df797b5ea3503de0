/**
 * Suggesting mode ("Föreslå ändringar", issue 16): typing, deleting, pasting and
 * replacing a selection leave the shared Y document untouched and become a suggestion
 * instead, shown inline until it is sent as a thread of kind `suggestion` (anchor: the
 * replaced range, collapsed for an insertion; proposal: the typed text, "" to delete).
 *
 * The Y document stays untouched because no local transaction that changes the
 * ProseMirror document gets through while the mode is on (`filterTransaction`): only the
 * sync plugin's own transactions, which carry remote changes in, do. Input is caught
 * before it becomes a transaction (`handleTextInput`, `handleKeyDown` for Backspace,
 * Delete and Enter, `handlePaste`, `handleDrop`) and turned into the pending suggestion.
 * The server enforces the same for commenters: their socket's updates are dropped.
 *
 * Consecutive typing at the pending suggestion's end extends it; Backspace takes back
 * typed letters, then deletes further to the left; Delete deletes further to the right.
 * It is sent after a pause, when the caret leaves it, or when the text loses focus.
 * Everyone's open suggestions are drawn here too: the replaced text struck through, the
 * suggested text as an underlined widget after it, each with a text label for screen
 * readers and a title naming who suggested it. One whose text changed since it was made
 * is drawn differently (dashed, with a visible "Konflikt: texten har ändrats" label, so
 * not by colour alone).
 *
 * Across paragraphs: a selection running from one paragraph or heading into a later one
 * (at most `MAX_SPAN_BLOCKS`, nothing else between) may be typed over or deleted, and
 * Backspace at a paragraph's start (Delete at its end) suggests joining it with the
 * neighbour; the server joins them when the suggestion is accepted. Enter adds a
 * paragraph break to the pending suggestion ("\n" in its proposal), which the server
 * makes a new paragraph when it is accepted.
 *
 * A click on a drawn suggestion, or Enter with the caret in one, asks for its popover at
 * the text (`suggestion-open`, handled by the document session).
 */
import type { Editor } from '@tiptap/core';
import { type EditorState, Plugin, PluginKey, TextSelection } from '@tiptap/pm/state';
import { Decoration, DecorationSet, type EditorView } from '@tiptap/pm/view';
import { ySyncPluginKey } from '@tiptap/y-tiptap';
import type { AnchorInput } from '../api/types';
import { anchorPoints, type DecodedAnchor, encodeAnchor, rangeAnchor } from '../comments/anchors';
import { h } from '../dom';
import { t } from '../i18n';

/** How long typing may pause before the pending suggestion is sent. */
export const SUGGESTION_PAUSE_MS = 1500;

/** Most blocks a suggestion may span; the server's limit (comments/span.rs). */
export const MAX_SPAN_BLOCKS = 10;

/** The block kinds a suggestion may run across; the server allows the same. */
const SPANNABLE = new Set(['paragraph', 'heading']);

/** The detail of a `suggestion-open` event: which suggestion, and where to show it. */
export interface SuggestionOpen {
  id: string;
  left: number;
  top: number;
  bottom: number;
}

/** An open suggestion to draw. */
export interface ShownSuggestion {
  id: string;
  anchor: DecodedAnchor;
  proposal: string;
  /** "Name (Organisation), time": the title of its marks. */
  label: string;
  /** The text it was made against; when the text there differs now, it is conflicting. */
  originalQuote: string;
}

/**
 * The text an anchor covers in the editor now, paragraphs joined by "\n" as the server
 * lays them out; null when the anchor no longer resolves.
 */
export function currentText(state: EditorState, anchor: DecodedAnchor): string | null {
  const points = anchorPoints(state, anchor);
  if (!points) return null;
  return points.to > points.from ? state.doc.textBetween(points.from, points.to, '\n') : '';
}

/** Whether the text under a suggestion differs from what it was made against. */
export function isConflicting(state: EditorState, shown: ShownSuggestion): boolean {
  if (shown.originalQuote === '') return false;
  const now = currentText(state, shown.anchor);
  return now !== null && now !== '' && now !== shown.originalQuote;
}

interface Pending {
  anchor: DecodedAnchor;
  text: string;
}

interface SuggestState {
  on: boolean;
  pending: Pending | null;
  shown: ShownSuggestion[];
}

/** The decorations drawn for each editor state (a state is immutable). */
const drawnFor = new WeakMap<EditorState, DecorationSet>();

type Meta = { on?: boolean; pending?: Pending | null; shown?: ShownSuggestion[] };

export const suggestingKey = new PluginKey<SuggestState>('suggesting');

/** The anchor and proposal of a suggestion to send. */
export interface Suggestion {
  anchor: AnchorInput;
  proposal: string;
}

export class SuggestingMode {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private sending = false;

  constructor(
    private readonly editor: Editor,
    private readonly submit: (suggestion: Suggestion) => Promise<void>,
  ) {
    // First among the plugins: its key and input handlers must run before the editor's
    // own keymaps (Backspace, Delete, Enter), which would otherwise handle the key.
    editor.registerPlugin(this.plugin(), (plugin, plugins) => [plugin, ...plugins]);
  }

  get on(): boolean {
    return suggestingKey.getState(this.editor.state)?.on ?? false;
  }

  set(on: boolean): void {
    if (this.editor.isDestroyed || on === this.on) return;
    if (!on) void this.flush();
    this.dispatch({ on });
  }

  /** Draws these open suggestions (replacing those drawn before). */
  show(shown: ShownSuggestion[]): void {
    if (this.editor.isDestroyed) return;
    this.dispatch({ shown });
  }

  /** Sends the pending suggestion now, if there is one. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const pending = this.pending();
    if (!pending || this.sending) return;
    const points = anchorPoints(this.editor.state, pending.anchor);
    if (!points || (points.from === points.to && pending.text === '')) {
      this.dispatch({ pending: null });
      return;
    }
    this.sending = true;
    try {
      await this.submit({ anchor: encodeAnchor(pending.anchor), proposal: pending.text });
    } finally {
      this.sending = false;
      // What was typed while it was on its way stays pending, and is sent in turn.
      if (this.pending() === pending) this.dispatch({ pending: null });
      else if (this.pending()) this.schedule();
    }
  }

  destroy(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private pending(): Pending | null {
    return suggestingKey.getState(this.editor.state)?.pending ?? null;
  }

  private dispatch(meta: Meta, view: EditorView = this.editor.view): void {
    view.dispatch(view.state.tr.setMeta(suggestingKey, meta));
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), SUGGESTION_PAUSE_MS);
  }

  /** Makes `[from, to)` → `text` the pending suggestion and puts the caret after it. */
  private propose(view: EditorView, from: number, to: number, text: string): boolean {
    const { state } = view;
    if (!spannable(state, from, to)) {
      view.dom.dispatchEvent(new CustomEvent('suggestion-refused', { bubbles: true }));
      return true;
    }
    const current = this.pending();
    const points = current ? anchorPoints(state, current.anchor) : null;
    let next: Pending | null = null;
    if (current && points && from === to && from === points.to) {
      next = { anchor: current.anchor, text: current.text + text };
    } else {
      if (current) void this.flush();
      const anchor = rangeAnchor(state, from, to);
      if (!anchor) return true;
      next = { anchor, text };
    }
    const tr = state.tr.setMeta(suggestingKey, { pending: next } satisfies Meta);
    tr.setSelection(TextSelection.create(tr.doc, to));
    view.dispatch(tr);
    this.schedule();
    return true;
  }

  /** Backspace or Delete in suggesting mode. */
  private erase(view: EditorView, backward: boolean): boolean {
    const { state } = view;
    const { from, to, empty } = state.selection;
    if (!empty) return this.propose(view, from, to, '');
    const current = this.pending();
    const points = current ? anchorPoints(state, current.anchor) : null;
    const $pos = state.doc.resolve(from);
    if (current && points && from === points.to) {
      if (backward && current.text) {
        const chars = Array.from(current.text);
        chars.pop();
        this.dispatch({ pending: { anchor: current.anchor, text: chars.join('') } }, view);
        this.schedule();
        return true;
      }
      const $start = state.doc.resolve(points.from);
      if (backward && $start.parentOffset > 0) {
        const anchor = rangeAnchor(state, points.from - 1, points.to);
        if (anchor) this.dispatch({ pending: { anchor, text: current.text } }, view);
      } else if (!backward && $pos.parentOffset < $pos.parent.content.size) {
        const anchor = rangeAnchor(state, points.from, points.to + 1);
        if (anchor) {
          const tr = state.tr.setMeta(suggestingKey, {
            pending: { anchor, text: current.text },
          } satisfies Meta);
          tr.setSelection(TextSelection.create(tr.doc, points.to + 1));
          view.dispatch(tr);
        }
      }
      this.schedule();
      return true;
    }
    if (backward && $pos.parentOffset > 0) return this.propose(view, from - 1, from, '');
    if (!backward && $pos.parentOffset < $pos.parent.content.size)
      return this.propose(view, from, from + 1, '');
    // At a paragraph's edge: suggest joining it with its neighbour (the break between).
    if (backward && $pos.depth === 1 && $pos.index(0) > 0) {
      return this.propose(view, from - 2, from, '');
    }
    if (!backward && $pos.depth === 1 && $pos.index(0) < state.doc.childCount - 1) {
      return this.propose(view, from, from + 2, '');
    }
    return true;
  }

  private plugin(): Plugin<SuggestState> {
    return new Plugin<SuggestState>({
      key: suggestingKey,
      state: {
        init: () => ({ on: false, pending: null, shown: [] }),
        apply(tr, value) {
          const meta = tr.getMeta(suggestingKey) as Meta | undefined;
          const next: SuggestState = {
            on: meta?.on ?? value.on,
            pending: meta && 'pending' in meta ? (meta.pending ?? null) : value.pending,
            shown: meta?.shown ?? value.shown,
          };
          if (!next.on) next.pending = null;
          return next;
        },
      },
      filterTransaction: (tr, state) => {
        if (!tr.docChanged) return true;
        if (!suggestingKey.getState(state)?.on) return true;
        // Remote changes come in through the sync plugin; nothing else may change the text.
        return tr.getMeta(ySyncPluginKey) !== undefined;
      },
      props: {
        // Drawn from the finished state, not in `apply`: this plugin comes first, so the
        // sync plugin's state (which maps anchors) is not yet built there.
        decorations: (state) => {
          let drawn = drawnFor.get(state);
          const value = suggestingKey.getState(state);
          if (!drawn && value) {
            drawn = draw(state, value);
            drawnFor.set(state, drawn);
          }
          return drawn;
        },
        handleTextInput: (view, from, to, text) =>
          this.on ? this.propose(view, from, to, text) : false,
        handleKeyDown: (view, event) => {
          if (
            event.key === 'Enter' &&
            !event.shiftKey &&
            !event.altKey &&
            !event.ctrlKey &&
            !event.metaKey &&
            openAtCaret(view)
          ) {
            return true;
          }
          if (!this.on || event.altKey || event.metaKey) return false;
          if (event.key === 'Backspace') return this.erase(view, true);
          if (event.key === 'Delete') return this.erase(view, false);
          if (event.key === 'Enter') {
            // A paragraph break: "\n" in the proposal, a new paragraph once accepted.
            const { from, to } = view.state.selection;
            return this.propose(view, from, to, '\n');
          }
          return false;
        },
        handlePaste: (view, event) => {
          if (!this.on) return false;
          const text = (event.clipboardData?.getData('text/plain') ?? '').replace(/\s*\n\s*/g, ' ');
          const { from, to } = view.state.selection;
          if (text) this.propose(view, from, to, text);
          return true;
        },
        handleDrop: () => this.on,
        handleDOMEvents: {
          click: (view, event) => {
            const mark = (event.target as Element | null)?.closest?.('[data-suggestion]');
            const id = mark?.getAttribute('data-suggestion');
            if (!mark || !id || id === 'pending' || !view.state.selection.empty) return false;
            const box = mark.getBoundingClientRect();
            requestOpen(view, { id, left: box.left, top: box.top, bottom: box.bottom });
            return false;
          },
          blur: () => {
            if (this.on) void this.flush();
            return false;
          },
        },
      },
      view: () => ({
        update: (view) => {
          // The caret left the pending suggestion: it is done.
          const pending = this.pending();
          if (!pending || this.sending) return;
          const points = anchorPoints(view.state, pending.anchor);
          const { from, to } = view.state.selection;
          if (!points || from !== to || from !== points.to) void this.flush();
        },
      }),
    });
  }
}

function draw(state: EditorState, value: SuggestState): DecorationSet {
  const decorations: Decoration[] = [];
  const add = (
    id: string,
    anchor: DecodedAnchor,
    text: string,
    label: string,
    pending: boolean,
    conflict = false,
  ) => {
    const points = anchorPoints(state, anchor);
    if (!points) return;
    const modifier = pending ? ' suggestion--pending' : conflict ? ' suggestion--conflict' : '';
    if (conflict) {
      decorations.push(
        Decoration.widget(points.from, () => conflictLabel(id), {
          side: -2,
          key: `conflict-${id}`,
        }),
      );
    }
    if (points.to > points.from) {
      decorations.push(
        Decoration.widget(points.from, () => hidden(t('suggest.deleteLabel')), {
          side: -1,
          key: `del-label-${id}`,
        }),
        Decoration.inline(points.from, points.to, {
          class: `suggestion-del${modifier}`,
          'data-suggestion': id,
          'data-thread-id': id,
          title: label,
        }),
      );
    }
    if (text) {
      decorations.push(
        Decoration.widget(points.to, () => insertion(id, text, label, modifier), {
          side: -1,
          key: `ins-${id}-${text}`,
        }),
      );
    }
  };
  for (const shown of value.shown) {
    add(shown.id, shown.anchor, shown.proposal, shown.label, false, isConflicting(state, shown));
  }
  if (value.pending) {
    const p = value.pending;
    add('pending', p.anchor, p.text, t('suggest.pendingLabel'), true);
  }
  return DecorationSet.create(state.doc, decorations);
}

function hidden(text: string): HTMLElement {
  return h('span', { class: 'visually-hidden' }, `${text} `);
}

function insertion(id: string, text: string, label: string, modifier: string): HTMLElement {
  return h(
    'ins',
    {
      class: `suggestion-ins${modifier}`,
      'data-suggestion': id,
      'data-thread-id': id,
      title: label,
    },
    hidden(t('suggest.insertLabel')),
    ...text.split('\n').flatMap((part, i) => (i === 0 ? [part] : [paragraphBreak(), part])),
  );
}

/** A proposed paragraph break: a visible ¶ and words for screen readers, then the break. */
function paragraphBreak(): DocumentFragment {
  const fragment = document.createDocumentFragment();
  fragment.append(
    h('span', { class: 'suggestion-break', 'aria-hidden': 'true' }, '¶'),
    hidden(t('suggest.breakLabel')),
    '\n',
  );
  return fragment;
}

/** The visible label of a suggestion whose text changed: words, not colour alone. */
function conflictLabel(id: string): HTMLElement {
  return h(
    'span',
    {
      class: 'suggestion-conflict-label',
      'data-suggestion': id,
      'data-thread-id': id,
      'data-testid': 'suggestion-conflict-label',
      contenteditable: 'false',
    },
    t('suggest.conflictLabel'),
  );
}

/**
 * Whether `[from, to)` may be a suggestion: within one text block, or from one top-level
 * paragraph or heading into a later one with only paragraphs and headings between, at
 * most `MAX_SPAN_BLOCKS` in all (what the server accepts, checked there too).
 */
function spannable(state: EditorState, from: number, to: number): boolean {
  const $from = state.doc.resolve(from);
  const $to = state.doc.resolve(to);
  if ($from.parent === $to.parent) return $from.parent.isTextblock;
  if ($from.depth !== 1 || $to.depth !== 1) return false;
  const first = $from.index(0);
  const last = $to.index(0);
  if (last <= first || last - first + 1 > MAX_SPAN_BLOCKS) return false;
  for (let i = first; i <= last; i += 1) {
    if (!SPANNABLE.has(state.doc.child(i).type.name)) return false;
  }
  return true;
}

/** Asks for the popover of the shown suggestion the caret is in; false when none. */
function openAtCaret(view: EditorView): boolean {
  const { selection } = view.state;
  if (!selection.empty) return false;
  const value = suggestingKey.getState(view.state);
  const at = selection.from;
  for (const shown of value?.shown ?? []) {
    const points = anchorPoints(view.state, shown.anchor);
    if (!points || at < points.from || at > points.to) continue;
    const box = view.coordsAtPos(at);
    requestOpen(view, { id: shown.id, left: box.left, top: box.top, bottom: box.bottom });
    return true;
  }
  return false;
}

function requestOpen(view: EditorView, detail: SuggestionOpen): void {
  view.dom.dispatchEvent(
    new CustomEvent<SuggestionOpen>('suggestion-open', { bubbles: true, detail }),
  );
}

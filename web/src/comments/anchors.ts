/**
 * Between the editor's selection and the API's anchors: two Yjs relative positions inside
 * the `default` XmlFragment, each as standard base64 of `Y.encodeRelativePosition`.
 * Tiptap 3 runs on `@tiptap/y-tiptap`, whose sync plugin state holds the fragment and the
 * node mapping.
 *
 * Both ends use assoc 0: each sticks to the character after it, the end to the first
 * character past the selection. An end stuck to the selection's own last character
 * (assoc -1) fell back to where a deletion began when someone typed over the end of the
 * range, and the range shrank to a fragment of a word; now the typed words stay inside.
 * The server stores every anchor this way whatever a client sends (server/src/comments/
 * anchor.rs), so the highlight here and the quote there agree.
 */
import type { Editor } from '@tiptap/core';
import type { EditorState } from '@tiptap/pm/state';
import type { EditorView } from '@tiptap/pm/view';
import {
  absolutePositionToRelativePosition,
  relativePositionToAbsolutePosition,
  ySyncPluginKey,
} from '@tiptap/y-tiptap';
import * as Y from 'yjs';
import type { AnchorInput } from '../api/types';

interface SyncState {
  doc: Y.Doc;
  type: Y.XmlFragment;
  // biome-ignore lint/suspicious/noExplicitAny: y-tiptap types its mapping loosely.
  binding: { mapping: any } | null;
}

function syncState(state: EditorState): SyncState | null {
  const ystate = ySyncPluginKey.getState(state) as SyncState | undefined;
  if (!ystate?.binding || !ystate.type) return null;
  return ystate;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Re-creates `rel` with another association when it points into a text. */
function withAssoc(rel: Y.RelativePosition, doc: Y.Doc, assoc: number): Y.RelativePosition {
  const abs = Y.createAbsolutePositionFromRelativePosition(rel, doc);
  if (abs && abs.type instanceof Y.XmlText) {
    return Y.createRelativePositionFromTypeIndex(abs.type, abs.index, assoc);
  }
  return rel;
}

/**
 * Makes ProseMirror read the DOM selection now. It does so on its own schedule (after
 * `selectionchange`), so a shortcut pressed right after Shift+arrow would otherwise see
 * the selection as it was a moment before. `domObserver` is ProseMirror's internal
 * observer, absent from its types; without it nothing happens.
 */
export function readDomSelection(editor: Editor): void {
  const view = editor.view as unknown as { domObserver?: { flush?: () => void } };
  view.domObserver?.flush?.();
}

/** The selection as an anchor, or null when nothing is selected (or not synced yet). */
export function selectionAnchor(editor: Editor): AnchorInput | null {
  readDomSelection(editor);
  const { from, to, empty } = editor.state.selection;
  if (empty) return null;
  const range = rangeAnchor(editor.state, from, to);
  return range ? encodeAnchor(range) : null;
}

/**
 * The range `[from, to)` of the editor's document as relative positions (assoc 0), or
 * null before the text has synced. `from === to` makes a collapsed anchor: a point, as
 * an insertion suggestion is anchored.
 */
export function rangeAnchor(state: EditorState, from: number, to: number): DecodedAnchor | null {
  const ystate = syncState(state);
  if (!ystate?.binding) return null;
  const mapping = ystate.binding.mapping;
  const at = (pos: number) =>
    withAssoc(absolutePositionToRelativePosition(pos, ystate.type, mapping), ystate.doc, 0);
  return { start: at(from), end: at(to) };
}

/** The anchor as the API takes it. */
export function encodeAnchor(anchor: DecodedAnchor): AnchorInput {
  return {
    start: toBase64(Y.encodeRelativePosition(anchor.start)),
    end: toBase64(Y.encodeRelativePosition(anchor.end)),
  };
}

export interface DecodedAnchor {
  start: Y.RelativePosition;
  end: Y.RelativePosition;
}

export function decodeAnchor(anchor: AnchorInput): DecodedAnchor | null {
  try {
    return {
      start: Y.decodeRelativePosition(fromBase64(anchor.start)),
      end: Y.decodeRelativePosition(fromBase64(anchor.end)),
    };
  } catch {
    return null;
  }
}

/** The anchor's range in the editor's current document, or null when it has none. */
export function anchorRange(
  state: EditorState,
  anchor: DecodedAnchor,
): { from: number; to: number } | null {
  const range = anchorPoints(state, anchor);
  return range && range.to > range.from ? range : null;
}

/**
 * Where both ends of the anchor are now, a collapsed anchor (an insertion point)
 * included; null when they no longer resolve or have crossed.
 */
export function anchorPoints(
  state: EditorState,
  anchor: DecodedAnchor,
): { from: number; to: number } | null {
  const ystate = syncState(state);
  if (!ystate?.binding) return null;
  const mapping = ystate.binding.mapping;
  const from = relativePositionToAbsolutePosition(ystate.doc, ystate.type, anchor.start, mapping);
  const to = relativePositionToAbsolutePosition(ystate.doc, ystate.type, anchor.end, mapping);
  if (from === null || to === null) return null;
  const size = state.doc.content.size;
  const a = Math.max(0, Math.min(from, size));
  const b = Math.max(0, Math.min(to, size));
  if (b < a) return null;
  return { from: a, to: b };
}

/**
 * The viewport top of the line where `from` is. On the first line of a paragraph (or
 * heading, or list item) that is the block's own top, so a card beside it lines up with
 * the block; further down, the top of the character. Null when the position has no box
 * (the editor is not laid out).
 */
export function textTop(view: EditorView, from: number): number | null {
  try {
    const coords = view.coordsAtPos(from, 1);
    const $from = view.state.doc.resolve(from);
    if ($from.depth > 0) {
      const block = view.nodeDOM($from.before());
      if (block instanceof HTMLElement) {
        const top = block.getBoundingClientRect().top;
        if (coords.top - top < coords.bottom - coords.top) return top;
      }
    }
    return coords.top;
  } catch {
    return null;
  }
}

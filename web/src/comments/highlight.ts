/**
 * Highlights the anchored range of each open thread with a ProseMirror decoration (never
 * a mark: the text stays untouched). On every transaction, each thread's relative
 * positions are mapped to absolute ones again, so local and remote edits move the
 * highlights along.
 */
import type { Editor } from '@tiptap/core';
import { Plugin, PluginKey } from '@tiptap/pm/state';
import { Decoration, DecorationSet } from '@tiptap/pm/view';
import { anchorRange, type DecodedAnchor } from './anchors';

export interface HighlightAnchor {
  id: string;
  anchor: DecodedAnchor;
}

interface HighlightState {
  anchors: HighlightAnchor[];
  active: string | null;
  decorations: DecorationSet;
}

type Meta = { anchors?: HighlightAnchor[]; active?: string | null };

export const threadHighlightKey = new PluginKey<HighlightState>('threadHighlight');

export function threadHighlightPlugin(): Plugin<HighlightState> {
  return new Plugin<HighlightState>({
    key: threadHighlightKey,
    state: {
      init: () => ({ anchors: [], active: null, decorations: DecorationSet.empty }),
      apply(tr, value, _old, newState) {
        const meta = tr.getMeta(threadHighlightKey) as Meta | undefined;
        const anchors = meta?.anchors ?? value.anchors;
        const active = meta && 'active' in meta ? (meta.active ?? null) : value.active;
        const decorations: Decoration[] = [];
        for (const { id, anchor } of anchors) {
          const range = anchorRange(newState, anchor);
          if (!range) continue;
          decorations.push(
            Decoration.inline(range.from, range.to, {
              class:
                id === active ? 'thread-highlight thread-highlight--active' : 'thread-highlight',
              'data-thread-id': id,
            }),
          );
        }
        return { anchors, active, decorations: DecorationSet.create(newState.doc, decorations) };
      },
    },
    props: {
      decorations: (state) => threadHighlightKey.getState(state)?.decorations,
    },
  });
}

export function setHighlights(editor: Editor, anchors: HighlightAnchor[]): void {
  if (editor.isDestroyed) return;
  editor.view.dispatch(editor.state.tr.setMeta(threadHighlightKey, { anchors } satisfies Meta));
}

export function setActiveHighlight(editor: Editor, active: string | null): void {
  if (editor.isDestroyed) return;
  editor.view.dispatch(editor.state.tr.setMeta(threadHighlightKey, { active } satisfies Meta));
}

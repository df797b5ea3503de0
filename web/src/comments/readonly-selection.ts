/**
 * Keyboard selection in a read-only editor. Without caret browsing, a non-editable text
 * ignores Shift+arrows, so commenters could only select with a mouse. Here the keys move
 * and extend the DOM selection with `Selection.modify`; ProseMirror reads the DOM
 * selection of a non-editable view into its state, where the comment form finds it.
 */
import type { Editor } from '@tiptap/core';

type Granularity = 'character' | 'word' | 'line' | 'lineboundary' | 'documentboundary';

interface ModifiableSelection extends Selection {
  modify(
    alter: 'move' | 'extend',
    direction: 'forward' | 'backward',
    granularity: Granularity,
  ): void;
}

function movement(event: KeyboardEvent): ['forward' | 'backward', Granularity] | null {
  switch (event.key) {
    case 'ArrowRight':
      return ['forward', event.ctrlKey ? 'word' : 'character'];
    case 'ArrowLeft':
      return ['backward', event.ctrlKey ? 'word' : 'character'];
    case 'ArrowDown':
      return ['forward', 'line'];
    case 'ArrowUp':
      return ['backward', 'line'];
    case 'End':
      return ['forward', event.ctrlKey ? 'documentboundary' : 'lineboundary'];
    case 'Home':
      return ['backward', event.ctrlKey ? 'documentboundary' : 'lineboundary'];
    default:
      return null;
  }
}

/** Puts a caret at the start of the text when focus arrives without a selection in it. */
function ensureCaret(dom: HTMLElement): void {
  const selection = window.getSelection();
  if (!selection) return;
  if (selection.rangeCount > 0 && dom.contains(selection.anchorNode)) return;
  const walker = document.createTreeWalker(dom, NodeFilter.SHOW_TEXT);
  const first = walker.nextNode();
  const range = document.createRange();
  if (first) range.setStart(first, 0);
  else range.setStart(dom, 0);
  range.collapse(true);
  selection.removeAllRanges();
  selection.addRange(range);
}

export function readonlyKeyboardSelection(editor: Editor): () => void {
  const dom = editor.view.dom as HTMLElement;
  const onFocus = () => {
    if (!editor.isEditable) ensureCaret(dom);
  };
  const onKeydown = (event: KeyboardEvent) => {
    if (editor.isEditable || event.altKey || event.metaKey) return;
    const move = movement(event);
    if (!move) return;
    ensureCaret(dom);
    const selection = window.getSelection() as ModifiableSelection | null;
    if (!selection || typeof selection.modify !== 'function') return;
    event.preventDefault();
    selection.modify(event.shiftKey ? 'extend' : 'move', move[0], move[1]);
  };
  dom.addEventListener('focus', onFocus);
  dom.addEventListener('keydown', onKeydown);
  return () => {
    dom.removeEventListener('focus', onFocus);
    dom.removeEventListener('keydown', onKeydown);
  };
}

/**
 * The Tiptap editor bound to the shared Y.Doc: StarterKit without its own history
 * (`undoRedo: false`: Collaboration brings a Yjs-aware undo/redo that only undoes one's
 * own changes), Collaboration on the XmlFragment `default` (the server's layout), and
 * CollaborationCaret for remote carets and selections labelled "Name (Organisation)".
 * Tables (table > tableRow > tableHeader/tableCell > blocks, the names the server reads)
 * and StarterKit's Link, limited to http, https and mailto addresses (`links.ts`), so a
 * pasted or typed `javascript:` address never becomes a link.
 */
import { Editor } from '@tiptap/core';
import Collaboration from '@tiptap/extension-collaboration';
import CollaborationCaret from '@tiptap/extension-collaboration-caret';
import { Table, TableCell, TableHeader, TableRow } from '@tiptap/extension-table';
import StarterKit from '@tiptap/starter-kit';
import type { WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';
import { type PresenceUser, personLabel, safeColor } from '../sync/presence';
import '../styles/editor-base.css';
import { isSafeHref } from './links';

export interface EditorOptions {
  host: HTMLElement;
  ydoc: Y.Doc;
  provider: WebsocketProvider;
  user: PresenceUser;
  /** Attributes of the editable element; change them with `setEditorAttributes`. */
  attributes: Record<string, string>;
}

export function createEditor(options: EditorOptions): Editor {
  return new Editor({
    element: options.host,
    // Tiptap would add its base CSS as an inline <style>, which the server's
    // Content-Security-Policy refuses; the same rules are in styles/editor-base.css.
    injectCSS: false,
    editable: false,
    extensions: [
      StarterKit.configure({
        undoRedo: false,
        link: {
          openOnClick: false,
          autolink: true,
          protocols: ['http', 'https', 'mailto'],
          isAllowedUri: (url) => isSafeHref(url),
        },
      }),
      Table.configure({ resizable: false }),
      TableRow,
      TableHeader,
      TableCell,
      Collaboration.configure({ document: options.ydoc, field: 'default' }),
      CollaborationCaret.configure({
        provider: options.provider,
        user: options.user,
        render: renderCaret,
        selectionRender: (user: Record<string, unknown>) => ({
          nodeName: 'span',
          class: 'collaboration-carets__selection',
          // ProseMirror applies this through the CSSOM (style.cssText), which the CSP allows.
          style: `background-color: ${safeColor(user.color)}33`,
          'data-user': labelOf(user),
        }),
      }),
    ],
    editorProps: { attributes: options.attributes },
  });
}

/** Replaces the editable element's attributes (aria-label, aria-readonly, …). */
export function setEditorAttributes(editor: Editor, attributes: Record<string, string>): void {
  if (editor.isDestroyed) return;
  editor.setOptions({ editorProps: { ...editor.options.editorProps, attributes } });
}

function labelOf(user: Record<string, unknown>): string {
  const name = typeof user.name === 'string' ? user.name : '?';
  const org = typeof user.org === 'string' ? user.org : '';
  return org ? personLabel({ name, org }) : name;
}

/** A remote caret: a coloured bar with a label above it, text only (no markup from peers). */
function renderCaret(user: Record<string, unknown>): HTMLElement {
  const color = safeColor(user.color);
  const caret = document.createElement('span');
  caret.className = 'collaboration-carets__caret';
  // Inside the editable text: screen readers would read the label as part of the text.
  // The "here now" list says the same in the page.
  caret.setAttribute('aria-hidden', 'true');
  caret.style.borderColor = color;
  const label = document.createElement('span');
  label.className = 'collaboration-carets__label';
  label.style.backgroundColor = color;
  label.textContent = labelOf(user);
  caret.append(label);
  return caret;
}

/**
 * The formatting toolbar, as the WAI-ARIA toolbar pattern: one tab stop, arrow keys (and
 * Home/End) move between buttons, toggles carry aria-pressed, unavailable actions stay
 * focusable with aria-disabled. Escape returns to the text; Alt+F10 in the text comes
 * here (wired in the document view).
 */
import type { Editor } from '@tiptap/core';
import { h } from '../dom';
import { t } from '../i18n';
import { openLinkDialog } from './link-dialog';

interface ToolDef {
  id: string;
  label: string;
  /** Visible text; when shorter than `label`, `label` is the accessible name. */
  text?: string;
  icon?: string;
  shortcut?: string;
  /** Toggle state; undefined for plain actions (undo/redo). */
  isActive?: (editor: Editor) => boolean;
  isEnabled: (editor: Editor) => boolean;
  /** `button` is where focus goes back to when a dialog it opens is cancelled. */
  run: (editor: Editor, button: HTMLButtonElement) => void;
  group: number;
}

const ICONS = {
  bulletList:
    '<svg viewBox="0 0 20 20" aria-hidden="true" focusable="false"><circle cx="3.5" cy="5" r="1.6"/><circle cx="3.5" cy="10" r="1.6"/><circle cx="3.5" cy="15" r="1.6"/><rect x="7" y="4.1" width="11" height="1.8" rx=".9"/><rect x="7" y="9.1" width="11" height="1.8" rx=".9"/><rect x="7" y="14.1" width="11" height="1.8" rx=".9"/></svg>',
  orderedList:
    '<svg viewBox="0 0 20 20" aria-hidden="true" focusable="false"><text x="1" y="7" font-size="6" font-family="sans-serif">1</text><text x="1" y="12.5" font-size="6" font-family="sans-serif">2</text><text x="1" y="18" font-size="6" font-family="sans-serif">3</text><rect x="7" y="4.1" width="11" height="1.8" rx=".9"/><rect x="7" y="9.6" width="11" height="1.8" rx=".9"/><rect x="7" y="15.1" width="11" height="1.8" rx=".9"/></svg>',
  undo: '<svg viewBox="0 0 20 20" aria-hidden="true" focusable="false"><path d="M8 4 3 8.5 8 13v-3h4.5a3.5 3.5 0 0 1 0 7H10v2h2.5a5.5 5.5 0 0 0 0-11H8z"/></svg>',
  redo: '<svg viewBox="0 0 20 20" aria-hidden="true" focusable="false"><path d="m12 4 5 4.5-5 4.5v-3H7.5a3.5 3.5 0 0 0 0 7H10v2H7.5a5.5 5.5 0 0 1 0-11H12z"/></svg>',
};

/** Whether the table holding the selection has a header row. */
function headerRowOn(editor: Editor): boolean {
  const { $from } = editor.state.selection;
  for (let depth = $from.depth; depth > 0; depth--) {
    const node = $from.node(depth);
    if (node.type.name === 'table') return node.firstChild?.firstChild?.type.name === 'tableHeader';
  }
  return false;
}

/** The table buttons: each has its name as its visible text (no icon to guess). */
function tableTools(): ToolDef[] {
  const action = (
    id: string,
    label: string,
    isEnabled: (e: Editor) => boolean,
    run: (e: Editor) => void,
  ): ToolDef => ({ id, label, text: label, isEnabled, run, group: 4 });
  return [
    action(
      'insertTable',
      t('toolbar.insertTable'),
      (e) => e.can().insertTable({ rows: 3, cols: 3, withHeaderRow: true }),
      (e) => e.chain().focus().insertTable({ rows: 3, cols: 3, withHeaderRow: true }).run(),
    ),
    action(
      'addRow',
      t('toolbar.addRow'),
      (e) => e.can().addRowAfter(),
      (e) => e.chain().focus().addRowAfter().run(),
    ),
    action(
      'deleteRow',
      t('toolbar.deleteRow'),
      (e) => e.can().deleteRow(),
      (e) => e.chain().focus().deleteRow().run(),
    ),
    action(
      'addColumn',
      t('toolbar.addColumn'),
      (e) => e.can().addColumnAfter(),
      (e) => e.chain().focus().addColumnAfter().run(),
    ),
    action(
      'deleteColumn',
      t('toolbar.deleteColumn'),
      (e) => e.can().deleteColumn(),
      (e) => e.chain().focus().deleteColumn().run(),
    ),
    {
      ...action(
        'headerRow',
        t('toolbar.headerRow'),
        (e) => e.can().toggleHeaderRow(),
        (e) => e.chain().focus().toggleHeaderRow().run(),
      ),
      isActive: headerRowOn,
    },
    action(
      'deleteTable',
      t('toolbar.deleteTable'),
      (e) => e.can().deleteTable(),
      (e) => e.chain().focus().deleteTable().run(),
    ),
  ];
}

function tools(): ToolDef[] {
  const heading = (level: 1 | 2 | 3): ToolDef => ({
    id: `heading-${level}`,
    label: t('toolbar.heading', { level }),
    isActive: (e) => e.isActive('heading', { level }),
    isEnabled: (e) => e.can().toggleHeading({ level }),
    run: (e) => e.chain().focus().setHeading({ level }).run(),
    shortcut: `Control+Alt+${level}`,
    group: 0,
  });
  return [
    {
      id: 'paragraph',
      label: t('toolbar.paragraph'),
      isActive: (e) => e.isActive('paragraph') && !e.isActive('listItem'),
      isEnabled: (e) => e.can().setParagraph(),
      run: (e) => e.chain().focus().setParagraph().run(),
      shortcut: 'Control+Alt+0',
      group: 0,
    },
    heading(1),
    heading(2),
    heading(3),
    {
      id: 'bold',
      label: t('toolbar.bold'),
      text: t('toolbar.boldShort'),
      isActive: (e) => e.isActive('bold'),
      isEnabled: (e) => e.can().toggleBold(),
      run: (e) => e.chain().focus().toggleBold().run(),
      shortcut: 'Control+B',
      group: 1,
    },
    {
      id: 'italic',
      label: t('toolbar.italic'),
      text: t('toolbar.italicShort'),
      isActive: (e) => e.isActive('italic'),
      isEnabled: (e) => e.can().toggleItalic(),
      run: (e) => e.chain().focus().toggleItalic().run(),
      shortcut: 'Control+I',
      group: 1,
    },
    {
      id: 'bulletList',
      label: t('toolbar.bulletList'),
      icon: ICONS.bulletList,
      isActive: (e) => e.isActive('bulletList'),
      isEnabled: (e) => e.can().toggleBulletList(),
      run: (e) => e.chain().focus().toggleBulletList().run(),
      shortcut: 'Control+Shift+8',
      group: 2,
    },
    {
      id: 'orderedList',
      label: t('toolbar.orderedList'),
      icon: ICONS.orderedList,
      isActive: (e) => e.isActive('orderedList'),
      isEnabled: (e) => e.can().toggleOrderedList(),
      run: (e) => e.chain().focus().toggleOrderedList().run(),
      shortcut: 'Control+Shift+7',
      group: 2,
    },
    {
      id: 'link',
      label: t('toolbar.link'),
      text: t('toolbar.link'),
      isActive: (e) => e.isActive('link'),
      isEnabled: (e) => e.can().setLink({ href: 'https://example.se' }),
      run: (e, button) => {
        void openLinkDialog(e, button);
      },
      group: 3,
    },
    ...tableTools(),
    {
      id: 'undo',
      label: t('toolbar.undo'),
      icon: ICONS.undo,
      isEnabled: (e) => e.can().undo(),
      run: (e) => e.chain().focus().undo().run(),
      shortcut: 'Control+Z',
      group: 5,
    },
    {
      id: 'redo',
      label: t('toolbar.redo'),
      icon: ICONS.redo,
      isEnabled: (e) => e.can().redo(),
      run: (e) => e.chain().focus().redo().run(),
      shortcut: 'Control+Shift+Z',
      group: 5,
    },
  ];
}

export interface Toolbar {
  el: HTMLElement;
  focus(): void;
  destroy(): void;
}

export function createToolbar(editor: Editor, editorId: string): Toolbar {
  const defs = tools();
  const buttons: HTMLButtonElement[] = [];
  let focusIndex = 0;

  const groups: HTMLElement[] = [];
  for (const def of defs) {
    const button = h('button', {
      type: 'button',
      class: `toolbar__button toolbar__button--${def.id}`,
      'data-tool': def.id,
      tabindex: '-1',
      title: def.label,
      'aria-keyshortcuts': def.shortcut,
      'aria-label': (def.text && def.text !== def.label) || def.icon ? def.label : null,
    });
    if (def.icon)
      button.innerHTML = def.icon; // static, trusted SVG
    else button.textContent = def.text ?? def.label;
    button.addEventListener('mousedown', (event) => event.preventDefault());
    button.addEventListener('click', () => {
      if (button.getAttribute('aria-disabled') === 'true') return;
      def.run(editor, button);
    });
    buttons.push(button);
    let group = groups[def.group];
    if (!group) {
      group = h('div', { class: 'toolbar__group', role: 'group' });
      groups[def.group] = group;
    }
    group.append(button);
  }

  const el = h(
    'div',
    {
      class: 'toolbar',
      role: 'toolbar',
      'aria-label': t('toolbar.label'),
      'aria-controls': editorId,
    },
    groups,
  );

  const setFocusIndex = (index: number, focus: boolean) => {
    focusIndex = (index + buttons.length) % buttons.length;
    buttons.forEach((button, i) => {
      button.tabIndex = i === focusIndex ? 0 : -1;
    });
    if (focus) buttons[focusIndex]?.focus();
  };

  el.addEventListener('keydown', (event) => {
    const current = buttons.indexOf(event.target as HTMLButtonElement);
    if (current < 0) return;
    switch (event.key) {
      case 'ArrowRight':
      case 'ArrowDown':
        setFocusIndex(current + 1, true);
        break;
      case 'ArrowLeft':
      case 'ArrowUp':
        setFocusIndex(current - 1, true);
        break;
      case 'Home':
        setFocusIndex(0, true);
        break;
      case 'End':
        setFocusIndex(buttons.length - 1, true);
        break;
      case 'Escape':
        editor.commands.focus();
        break;
      default:
        return;
    }
    event.preventDefault();
  });
  el.addEventListener('focusin', (event) => {
    const index = buttons.indexOf(event.target as HTMLButtonElement);
    if (index >= 0) setFocusIndex(index, false);
  });

  const update = () => {
    const editable = editor.isEditable;
    defs.forEach((def, i) => {
      const button = buttons[i];
      if (!button) return;
      const active = def.isActive?.(editor) ?? false;
      // An active toggle stays operable (pressing it again turns it off, or does nothing
      // for "Brödtext"), so it shows as pressed rather than unavailable.
      const enabled = editable && (active || def.isEnabled(editor));
      button.setAttribute('aria-disabled', String(!enabled));
      if (def.isActive) button.setAttribute('aria-pressed', String(active));
    });
  };
  setFocusIndex(0, false);
  update();
  editor.on('transaction', update);
  editor.on('update', update);

  return {
    el,
    focus: () => buttons[focusIndex]?.focus(),
    destroy: () => {
      editor.off('transaction', update);
      editor.off('update', update);
    },
  };
}

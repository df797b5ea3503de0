/**
 * Tabs as in the WAI-ARIA tabs pattern: one tab stop for the list, arrow keys (and
 * Home/End) move between tabs and select them, each tab controls its panel.
 */
import { h } from '../dom';

export interface TabDef<Id extends string> {
  id: Id;
  label: string;
  panel: HTMLElement;
}

export interface Tabs<Id extends string> {
  list: HTMLElement;
  select(id: Id, focus?: boolean): void;
}

export function tabs<Id extends string>(
  label: string,
  defs: TabDef<Id>[],
  selected: Id,
  onSelect: (id: Id) => void,
): Tabs<Id> {
  const buttons = defs.map((def) => {
    const button = h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `tab-${def.id}`,
        class: 'tab',
        'aria-controls': `tabpanel-${def.id}`,
        'data-tab': def.id,
      },
      def.label,
    );
    def.panel.id = `tabpanel-${def.id}`;
    def.panel.setAttribute('role', 'tabpanel');
    def.panel.setAttribute('aria-labelledby', button.id);
    button.addEventListener('click', () => select(def.id, false));
    return button;
  });

  const select = (id: Id, focus = false) => {
    defs.forEach((def, i) => {
      const on = def.id === id;
      const button = buttons[i];
      if (!button) return;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      def.panel.hidden = !on;
      if (on && focus) button.focus();
    });
    onSelect(id);
  };

  const list = h('div', { role: 'tablist', 'aria-label': label, class: 'tabs' }, buttons);
  list.addEventListener('keydown', (event) => {
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (index < 0) return;
    let next = -1;
    if (event.key === 'ArrowRight') next = (index + 1) % buttons.length;
    else if (event.key === 'ArrowLeft') next = (index - 1 + buttons.length) % buttons.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = buttons.length - 1;
    const def = defs[next];
    if (!def) return;
    event.preventDefault();
    select(def.id, true);
  });
  select(selected);
  return { list, select };
}

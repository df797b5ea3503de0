/**
 * @mentions in a comment field: typing `@` opens a list of the document's members
 * (people and organisations) matching what follows, as a WAI-ARIA 1.2 combobox on the
 * textarea (`aria-expanded`, `aria-controls`, `aria-activedescendant`): arrow keys move,
 * Enter or Tab picks, Escape closes (without closing the form around it). Picking writes
 * the visible text (`@Anna Berg `) and remembers who it names, so the comment is sent
 * with its mentions as structure (`mentions`), never parsed back from the text.
 *
 * A posted comment shows each mention as a marked span of text: bold and underlined,
 * with its `@`, so it stands out without colour (the body stays text, never markup).
 */
import type { Mentionable, MentionRequest, ThreadComment } from '../api/types';
import { h, uid } from '../dom';
import { t } from '../i18n';

/** Where the list's entries come from (the server's `…/mentionable?q=`). */
export type MentionSearch = (query: string) => Promise<Mentionable[]>;

/** Longest text after `@` still taken as a name being typed. */
const MAX_QUERY = 40;

interface Picked {
  kind: MentionRequest['kind'];
  id: string;
  text: string;
}

/** A textarea with @mention autocomplete. */
export interface MentionField {
  /** The list; place it right after the textarea. */
  listbox: HTMLElement;
  /** Whom the text still mentions (a picked name deleted from the text is dropped). */
  mentions(): MentionRequest[];
  /** Forgets the picks (after sending). */
  reset(): void;
}

/** The `@…` being typed just before the caret, if any: its start and the text after `@`. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf('@');
  if (at < 0) return null;
  if (at > 0 && !/\s|[(["]/.test(before.charAt(at - 1))) return null;
  const query = before.slice(at + 1);
  if (query.length > MAX_QUERY || /[\n@]/.test(query) || /^\s/.test(query)) return null;
  return { start: at, query };
}

export function mentionField(
  area: HTMLTextAreaElement,
  search: MentionSearch,
  initial: ThreadComment['mentions'] = [],
): MentionField {
  const listId = uid('mention-list');
  const listbox = h('ul', {
    id: listId,
    role: 'listbox',
    class: 'mention-list',
    'aria-label': t('mention.listLabel'),
    hidden: true,
    'data-testid': 'mention-list',
  });
  area.setAttribute('role', 'combobox');
  area.setAttribute('aria-autocomplete', 'list');
  area.setAttribute('aria-expanded', 'false');
  area.setAttribute('aria-controls', listId);
  let picked: Picked[] = initial.map((m) => ({ kind: m.kind, id: m.id, text: `@${m.name}` }));
  let options: { item: Mentionable; el: HTMLElement }[] = [];
  let active = -1;
  let token: { start: number; query: string } | null = null;
  let asked = 0;

  const close = () => {
    listbox.hidden = true;
    listbox.replaceChildren();
    options = [];
    active = -1;
    token = null;
    area.setAttribute('aria-expanded', 'false');
    area.removeAttribute('aria-activedescendant');
  };

  const highlight = (index: number) => {
    active = index;
    options.forEach((o, i) => {
      o.el.setAttribute('aria-selected', String(i === index));
    });
    const current = options[index];
    if (current) {
      area.setAttribute('aria-activedescendant', current.el.id);
      current.el.scrollIntoView?.({ block: 'nearest' });
    } else area.removeAttribute('aria-activedescendant');
  };

  const pick = (item: Mentionable) => {
    if (!token) return;
    const text = `@${item.name}`;
    const end = token.start + 1 + token.query.length;
    area.value = `${area.value.slice(0, token.start)}${text} ${area.value.slice(end)}`;
    const caret = token.start + text.length + 1;
    area.setSelectionRange(caret, caret);
    if (!picked.some((p) => p.kind === item.kind && p.id === item.id)) {
      picked.push({ kind: item.kind, id: item.id, text });
    }
    close();
    area.dispatchEvent(new Event('input', { bubbles: true }));
  };

  const show = (items: Mentionable[]) => {
    options = items.map((item) => {
      const el = h(
        'li',
        {
          id: uid('mention-option'),
          role: 'option',
          class: 'mention-list__option',
          'aria-selected': 'false',
        },
        h('span', { class: 'mention-list__name' }, item.name),
        ' ',
        h(
          'span',
          { class: 'mention-list__detail' },
          item.kind === 'org' ? t('mention.org') : (item.orgName ?? ''),
        ),
      );
      // Keep the textarea's focus and caret when an entry is pressed with a mouse.
      el.addEventListener('mousedown', (event) => event.preventDefault());
      el.addEventListener('click', () => pick(item));
      return { item, el };
    });
    if (options.length === 0) {
      listbox.replaceChildren(
        h(
          'li',
          { role: 'option', class: 'mention-list__none', 'aria-disabled': 'true' },
          t('mention.none'),
        ),
      );
    } else listbox.replaceChildren(...options.map((o) => o.el));
    listbox.hidden = false;
    area.setAttribute('aria-expanded', 'true');
    highlight(options.length > 0 ? 0 : -1);
  };

  area.addEventListener('input', () => {
    const caret = area.selectionStart ?? area.value.length;
    let found = mentionQuery(area.value, caret);
    // A mention already picked is text now, not a name being typed.
    const typed = found && area.value.slice(found.start, caret);
    if (typed && picked.some((p) => typed.startsWith(p.text))) found = null;
    if (!found) {
      if (token) close();
      return;
    }
    token = found;
    const query = found.query;
    const ask = ++asked;
    search(query).then(
      (items) => {
        if (ask !== asked || !token) return;
        // Past a space with nothing found, the `@` was not a mention: stop offering.
        if (items.length === 0 && /\s/.test(query)) close();
        else show(items);
      },
      () => {
        if (ask === asked) close();
      },
    );
  });
  area.addEventListener('keydown', (event) => {
    if (listbox.hidden) return;
    const count = options.length;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (count === 0) return;
      const step = event.key === 'ArrowDown' ? 1 : -1;
      highlight((active + step + count) % count);
    } else if ((event.key === 'Enter' || event.key === 'Tab') && active >= 0) {
      event.preventDefault();
      const chosen = options[active];
      if (chosen) pick(chosen.item);
    } else if (event.key === 'Escape') {
      // Close the list only: the form around it takes Escape as "cancel".
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });
  area.addEventListener('blur', () => close());

  return {
    listbox,
    mentions: () =>
      picked.filter((p) => area.value.includes(p.text)).map((p) => ({ kind: p.kind, id: p.id })),
    reset: () => {
      picked = [];
      close();
    },
  };
}

/**
 * A comment's body as text nodes, with each mention's `@name` in a marked span (text,
 * never markup). Mentions whose text was edited away show as plain text.
 */
export function renderMentions(body: string, mentions: ThreadComment['mentions']): Node[] {
  const names = [...new Set(mentions.map((m) => `@${m.name}`))]
    .filter((n) => n.length > 1)
    .sort((a, b) => b.length - a.length);
  const nodes: Node[] = [];
  let rest = body;
  while (rest.length > 0 && names.length > 0) {
    let at = -1;
    let name = '';
    for (const candidate of names) {
      const index = rest.indexOf(candidate);
      if (index >= 0 && (at < 0 || index < at)) {
        at = index;
        name = candidate;
      }
    }
    if (at < 0) break;
    if (at > 0) nodes.push(document.createTextNode(rest.slice(0, at)));
    nodes.push(h('span', { class: 'mention', 'data-testid': 'mention' }, name));
    rest = rest.slice(at + name.length);
  }
  if (rest.length > 0) nodes.push(document.createTextNode(rest));
  return nodes;
}

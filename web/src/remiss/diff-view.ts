/**
 * A paragraph-level diff between two versions, readable without colour: every paragraph
 * that differs carries a visible label (Tillagt, Borttaget, Ändrat stycke), removed words
 * are struck through in `del` and added words underlined in `ins`, each announced to
 * screen readers by a hidden "start/end of insertion" text. Unchanged paragraphs are
 * folded into a count unless asked for.
 *
 * Each insertion and deletion is followed by who made it, in words ("Infogat av
 * Miljöförvaltningen (Bo Ek)", "Struket av okänd" for text from before authorship was
 * kept, issue 16): visible text in the reading order, so a screen reader reads it right
 * after the change it belongs to.
 */
import type { DiffAuthor, ParagraphDiff, VersionDiff, WordChange } from '../api/types';
import { h, srOnly } from '../dom';
import { locale, type MessageKey, t, tCount } from '../i18n';

const LABELS: Record<ParagraphDiff['change'], MessageKey> = {
  added: 'remiss.diff.added',
  removed: 'remiss.diff.removed',
  changed: 'remiss.diff.changed',
  unchanged: 'remiss.diff.unchanged',
};

/** "Miljöförvaltningen (Bo Ek) och okänd": each organisation with its users. */
export function authorNames(authors: DiffAuthor[]): string {
  const names = authors.map((a) => {
    if (a.org == null) return t('remiss.diff.unknownAuthor');
    const org = a.orgName ?? a.org;
    return a.users.length > 0 ? `${org} (${a.users.map((u) => u.name).join(', ')})` : org;
  });
  return new Intl.ListFormat(locale(), { type: 'conjunction' }).format(names);
}

/** The visible "Infogat av …"/"Struket av …" after a change; nothing if not attributed. */
function byline(key: MessageKey, authors: DiffAuthor[] | null | undefined): (Node | string)[] {
  if (!authors || authors.length === 0) return [];
  return [
    ' ',
    h(
      'span',
      { class: 'diff__by', 'data-testid': 'diff-by' },
      t(key, { who: authorNames(authors) }),
    ),
    ' ',
  ];
}

function inserted(text: string, by?: DiffAuthor[] | null): (Node | string)[] {
  return [
    h(
      'ins',
      { class: 'diff__ins' },
      srOnly(`${t('remiss.diff.insStart')} `),
      text,
      srOnly(` ${t('remiss.diff.insEnd')}`),
    ),
    ...byline('remiss.diff.insertedBy', by),
  ];
}

function deleted(text: string, by?: DiffAuthor[] | null): (Node | string)[] {
  return [
    h(
      'del',
      { class: 'diff__del' },
      srOnly(`${t('remiss.diff.delStart')} `),
      text,
      srOnly(` ${t('remiss.diff.delEnd')}`),
    ),
    ...byline('remiss.diff.deletedBy', by),
  ];
}

function words(changes: WordChange[]): (Node | string)[] {
  return changes.flatMap((w) => {
    if (w.op === 'insert') return inserted(w.text, w.insertedBy);
    if (w.op === 'delete') return deleted(w.text, w.deletedBy);
    return [document.createTextNode(w.text)];
  });
}

function paragraphText(p: ParagraphDiff): (Node | string)[] {
  if (p.change === 'added') return inserted(p.after ?? '', p.insertedBy);
  if (p.change === 'removed') return deleted(p.before ?? '', p.deletedBy);
  if (p.change === 'changed' && p.words && p.words.length > 0) return words(p.words);
  if (p.change === 'changed') return [...deleted(p.before ?? ''), ' ', ...inserted(p.after ?? '')];
  return [document.createTextNode(p.after ?? p.before ?? '')];
}

function paragraphItem(p: ParagraphDiff): HTMLElement {
  return h(
    'li',
    { class: `diff__para diff__para--${p.change}`, 'data-change': p.change },
    h('p', { class: 'diff__label' }, t(LABELS[p.change])),
    h('p', { class: 'diff__text', lang: 'sv' }, paragraphText(p)),
  );
}

export function diffCounts(diff: VersionDiff): Record<ParagraphDiff['change'], number> {
  const counts = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  for (const p of diff.paragraphs) counts[p.change] += 1;
  return counts;
}

/** The list of paragraphs, runs of unchanged ones folded unless `showUnchanged`. */
export function renderDiff(diff: VersionDiff, showUnchanged: boolean): HTMLElement {
  const items: HTMLElement[] = [];
  let folded = 0;
  const flush = () => {
    if (folded === 0) return;
    items.push(h('li', { class: 'diff__fold muted' }, tCount('remiss.diff.folded', folded)));
    folded = 0;
  };
  for (const p of diff.paragraphs) {
    if (p.change === 'unchanged' && !showUnchanged) {
      folded += 1;
      continue;
    }
    flush();
    items.push(paragraphItem(p));
  }
  flush();
  return h('ol', { class: 'diff', 'data-testid': 'diff' }, items);
}

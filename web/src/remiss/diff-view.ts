/**
 * A paragraph-level diff between two versions, readable without colour: every paragraph
 * that differs carries a visible label (Tillagt, Borttaget, Ändrat stycke), removed words
 * are struck through in `del` and added words underlined in `ins`, each announced to
 * screen readers by a hidden "start/end of insertion" text. Unchanged paragraphs are
 * folded into a count unless asked for.
 */
import type { ParagraphDiff, VersionDiff, WordChange } from '../api/types';
import { h, srOnly } from '../dom';
import { type MessageKey, t, tCount } from '../i18n';

const LABELS: Record<ParagraphDiff['change'], MessageKey> = {
  added: 'remiss.diff.added',
  removed: 'remiss.diff.removed',
  changed: 'remiss.diff.changed',
  unchanged: 'remiss.diff.unchanged',
};

function inserted(text: string): HTMLElement {
  return h(
    'ins',
    { class: 'diff__ins' },
    srOnly(`${t('remiss.diff.insStart')} `),
    text,
    srOnly(` ${t('remiss.diff.insEnd')}`),
  );
}

function deleted(text: string): HTMLElement {
  return h(
    'del',
    { class: 'diff__del' },
    srOnly(`${t('remiss.diff.delStart')} `),
    text,
    srOnly(` ${t('remiss.diff.delEnd')}`),
  );
}

function words(changes: WordChange[]): Node[] {
  return changes.map((w) => {
    if (w.op === 'insert') return inserted(w.text);
    if (w.op === 'delete') return deleted(w.text);
    return document.createTextNode(w.text);
  });
}

function paragraphText(p: ParagraphDiff): (Node | string)[] {
  if (p.change === 'added') return [inserted(p.after ?? '')];
  if (p.change === 'removed') return [deleted(p.before ?? '')];
  if (p.change === 'changed' && p.words && p.words.length > 0) return words(p.words);
  if (p.change === 'changed') return [deleted(p.before ?? ''), ' ', inserted(p.after ?? '')];
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

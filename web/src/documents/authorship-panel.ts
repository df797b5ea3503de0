/**
 * "Visa vem som skrivit": which organisation wrote the text standing in the document now,
 * as a list (issue 16). Per organisation its characters still standing, its share of the
 * text and what it deleted; per paragraph the organisations whose text stands there. The
 * numbers come from the server (`GET /api/documents/{id}/attribution`), which binds every
 * Yjs client id to the user and organisation that wrote under it, so they cannot be
 * forged from a browser. Plain text and a table, never colour alone.
 */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import type { Attribution } from '../api/types';
import { h, replaceChildren } from '../dom';
import { locale, t } from '../i18n';

export const AUTHORSHIP_PANEL_ID = 'authorship-panel';

export interface AuthorshipPanel {
  el: HTMLElement;
  destroy(): void;
}

/** `part` of `whole` as a whole percentage in the UI's language. */
function percent(part: number, whole: number): string {
  const share = whole === 0 ? 0 : Math.floor((part * 100) / whole) / 100;
  return new Intl.NumberFormat(locale(), { style: 'percent' }).format(share);
}

function count(n: number): string {
  return new Intl.NumberFormat(locale()).format(n);
}

function organisationsTable(attribution: Attribution): HTMLElement {
  const rows = attribution.organisations.map((org) =>
    h(
      'tr',
      { 'data-org': org.org },
      h('th', { scope: 'row' }, org.name),
      h('td', {}, count(org.kept)),
      h('td', {}, percent(org.kept, attribution.characters)),
      h('td', {}, count(org.deleted)),
    ),
  );
  return h(
    'table',
    { class: 'table authorship__table' },
    h('caption', {}, t('authorship.byOrganisation')),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, t('authorship.organisation')),
        h('th', { scope: 'col' }, t('authorship.kept')),
        h('th', { scope: 'col' }, t('authorship.share')),
        h('th', { scope: 'col' }, t('authorship.deleted')),
      ),
    ),
    h('tbody', {}, rows),
  );
}

function paragraphList(attribution: Attribution): HTMLElement {
  const items = attribution.paragraphs
    .filter((p) => p.characters > 0)
    .map((p) => {
      const parts = p.organisations.map((o) =>
        t('authorship.orgCharacters', { org: o.name, characters: count(o.characters) }),
      );
      if (p.unattributed > 0) {
        parts.push(t('authorship.unattributed', { characters: count(p.unattributed) }));
      }
      return h(
        'li',
        { 'data-paragraph': String(p.index) },
        h('strong', {}, t('authorship.paragraph', { n: p.index + 1 })),
        ` ${parts.join(', ')}`,
      );
    });
  return h(
    'div',
    {},
    h('h3', {}, t('authorship.byParagraph')),
    items.length > 0
      ? h('ul', { class: 'authorship__paragraphs' }, items)
      : h('p', { class: 'muted' }, t('authorship.empty')),
  );
}

export function authorshipPanel(docId: string): AuthorshipPanel {
  let destroyed = false;
  const body = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('app.loading')));
  const errorBox = h('div', { class: 'alert alert--error', role: 'alert', hidden: true });
  const refresh = h(
    'button',
    { type: 'button', class: 'button button--small' },
    t('authorship.refresh'),
  );

  const load = async () => {
    body.setAttribute('aria-busy', 'true');
    try {
      const attribution = await api.attribution(docId);
      if (destroyed) return;
      errorBox.hidden = true;
      replaceChildren(
        body,
        h('p', {}, t('authorship.total', { characters: count(attribution.characters) })),
        attribution.organisations.length > 0 ? organisationsTable(attribution) : null,
        paragraphList(attribution),
        h('p', { class: 'hint' }, t('authorship.deletedHint')),
      );
    } catch (error) {
      if (destroyed) return;
      errorBox.textContent = t('authorship.loadFailed', { message: describeError(error) });
      errorBox.hidden = false;
    } finally {
      body.removeAttribute('aria-busy');
    }
  };
  refresh.addEventListener('click', () => void load());

  const el = h(
    'section',
    { id: AUTHORSHIP_PANEL_ID, class: 'panel authorship', 'aria-labelledby': 'authorship-heading' },
    h('h2', { id: 'authorship-heading', tabindex: '-1' }, t('authorship.title')),
    h('p', { class: 'muted' }, t('authorship.intro')),
    refresh,
    errorBox,
    body,
  );
  void load();
  return {
    el,
    destroy() {
      destroyed = true;
    },
  };
}

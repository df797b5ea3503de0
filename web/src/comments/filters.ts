/**
 * The bar above the text and the margin: filters by status, organisation and stance, how
 * many threads are shown, a way to the threads that lost their text, and the keyboard
 * help. It sits outside the margin so the margin holds only cards beside their text.
 */
import { STANCES, type Thread } from '../api/types';
import { h, replaceChildren, uid } from '../dom';
import { type MessageKey, t } from '../i18n';

export interface Filters {
  status: '' | 'open' | 'resolved';
  org: string;
  stance: string;
}

export function emptyFilters(): Filters {
  return { status: '', org: '', stance: '' };
}

export function matchesFilters(filters: Filters, thread: Thread): boolean {
  return (
    (!filters.status || thread.status === filters.status) &&
    (!filters.org || thread.org === filters.org) &&
    (!filters.stance || (thread.stance ?? 'none') === filters.stance)
  );
}

export interface FilterBar {
  el: HTMLElement;
  /** Redraws the organisation choices, the count and the orphaned link. */
  update(all: Thread[], shown: number, orphaned: number, load: string): void;
}

const option = (value: string, label: string, selected: string) =>
  h('option', { value, selected: value === selected }, label);

export function filterBar(
  filters: Filters,
  onChange: () => void,
  orphanTarget: () => HTMLElement | null,
): FilterBar {
  const ids = {
    status: uid('filter-status'),
    org: uid('filter-org'),
    stance: uid('filter-stance'),
  };
  const statusSelect = h(
    'select',
    { id: ids.status },
    option('', t('comments.filter.all'), filters.status),
    option('open', t('comments.status.open'), filters.status),
    option('resolved', t('comments.status.resolved'), filters.status),
  );
  const orgSelect = h('select', { id: ids.org });
  const stanceSelect = h(
    'select',
    { id: ids.stance },
    option('', t('comments.filter.all'), filters.stance),
    STANCES.map((s) => option(s, t(`stance.${s}` as MessageKey), filters.stance)),
    option('none', t('comments.filter.noStance'), filters.stance),
  );
  for (const select of [statusSelect, orgSelect, stanceSelect]) {
    select.addEventListener('change', () => {
      filters.status = statusSelect.value as Filters['status'];
      filters.org = orgSelect.value;
      filters.stance = stanceSelect.value;
      onChange();
    });
  }
  const field = (id: string, label: MessageKey, control: HTMLElement) =>
    h('div', { class: 'field' }, h('label', { for: id }, t(label)), control);

  const count = h('p', { class: 'comments-count muted', 'data-testid': 'comments-count' });
  const orphanLink = h('button', {
    type: 'button',
    class: 'button button--small button--link',
    hidden: true,
  });
  orphanLink.addEventListener('click', () => {
    const target = orphanTarget();
    target?.scrollIntoView({ block: 'start' });
    target?.focus();
  });

  const helpId = uid('comments-keys');
  const help = h(
    'div',
    { id: helpId, class: 'keys-help', hidden: true },
    h(
      'dl',
      {},
      [
        ['comments.keys.select', 'comments.keys.selectKeys'],
        ['comments.keys.comment', 'comments.keys.commentKeys'],
        ['comments.keys.back', 'comments.keys.backKeys'],
        ['comments.keys.toolbar', 'comments.keys.toolbarKeys'],
      ].map(([what, keys]) =>
        h(
          'div',
          {},
          h('dt', {}, h('kbd', {}, t(keys as MessageKey))),
          h('dd', {}, t(what as MessageKey)),
        ),
      ),
    ),
  );
  const helpToggle = h(
    'button',
    {
      type: 'button',
      class: 'button button--small',
      'aria-expanded': 'false',
      'aria-controls': helpId,
    },
    t('comments.keys.title'),
  );
  helpToggle.addEventListener('click', () => {
    help.hidden = !help.hidden;
    helpToggle.setAttribute('aria-expanded', String(!help.hidden));
  });

  const el = h(
    'div',
    { class: 'comments-bar', 'data-testid': 'comments-bar' },
    h(
      'fieldset',
      { class: 'comments-filters' },
      h('legend', {}, t('comments.filter.title')),
      field(ids.status, 'comments.filter.status', statusSelect),
      field(ids.org, 'comments.filter.org', orgSelect),
      field(ids.stance, 'comments.filter.stance', stanceSelect),
    ),
    h('div', { class: 'comments-bar__info' }, count, orphanLink, helpToggle),
    help,
  );

  return {
    el,
    update(all, shown, orphaned, load) {
      const orgs = new Map(all.map((th) => [th.org, th.orgName]));
      if (filters.org && !orgs.has(filters.org)) orgs.set(filters.org, filters.org);
      replaceChildren(
        orgSelect,
        option('', t('comments.filter.all'), filters.org),
        [...orgs.entries()]
          .sort((a, b) => a[1].localeCompare(b[1], 'sv'))
          .map(([id, name]) => option(id, name, filters.org)),
      );
      if (load === 'loading') count.textContent = t('comments.loading');
      else if (load === 'error') count.textContent = t('comments.loadFailed');
      else if (all.length === 0) count.textContent = t('comments.none');
      else if (shown === 0) count.textContent = t('comments.empty');
      else count.textContent = t('comments.count', { shown, total: all.length });
      orphanLink.hidden = orphaned === 0;
      orphanLink.textContent = t('comments.orphaned.link', { count: orphaned });
    },
  };
}

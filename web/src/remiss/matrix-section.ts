/**
 * The consensus matrix (samsynsmatris) on the Remiss tab: paragraph, by the draft's own
 * section numbering, × organisation; each cell says in words what the organisation said
 * there and how it was handled ("Avstyrker – Ej beaktad"), never by colour alone, and
 * each point is a link that opens its thread in the Text tab's comments. Contested rows
 * (someone advised against, or different rewordings were proposed) come first and say
 * so. A real table with row and column headers, so a screen reader announces both for
 * each cell; filters by organisation, stance and "only contested" narrow it.
 */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import { type MatrixPoint, type RemissMatrix, STANCES, type Stance } from '../api/types';
import { h, srOnly, uid } from '../dom';
import { type MessageKey, t } from '../i18n';
import { type Part, section, tableWrap } from './parts';

interface MatrixFilters {
  org: string;
  stance: Stance | '';
  contestedOnly: boolean;
}

/** The words for one point: "Avstyrker – Ej beaktad", or "– ej avgjord" while open. */
export function pointText(point: MatrixPoint): string {
  const stance = point.stance
    ? t(`stance.${point.stance}` as MessageKey)
    : t('remiss.matrix.noStance');
  const outcome = point.outcome
    ? t(`outcome.${point.outcome}` as MessageKey)
    : t('remiss.matrix.open');
  return `${stance} – ${outcome}`;
}

export function matrixSection(
  docId: string,
  openThread: (threadId: string) => void,
): Part & {
  reload(): Promise<void>;
} {
  const filters: MatrixFilters = { org: '', stance: '', contestedOnly: false };
  let matrix: RemissMatrix | null = null;
  const status = h('p', { class: 'remiss-status', role: 'status' });
  // A wide matrix scrolls sideways; the region takes focus so the keyboard can scroll it.
  const tableSlot = tableWrap('remiss.matrix.caption');

  const orgId = uid('matrix-org');
  const stanceId = uid('matrix-stance');
  const contestedId = uid('matrix-contested');
  const orgSelect = h('select', { id: orgId, 'data-testid': 'matrix-org' });
  const stanceSelect = h(
    'select',
    { id: stanceId, 'data-testid': 'matrix-stance' },
    h('option', { value: '' }, t('remiss.matrix.allStances')),
    STANCES.map((s) => h('option', { value: s }, t(`stance.${s}` as MessageKey))),
  );
  const contested = h('input', {
    id: contestedId,
    type: 'checkbox',
    'data-testid': 'matrix-contested',
  });
  orgSelect.addEventListener('change', () => {
    filters.org = orgSelect.value;
    render();
  });
  stanceSelect.addEventListener('change', () => {
    filters.stance = stanceSelect.value as Stance | '';
    render();
  });
  contested.addEventListener('change', () => {
    filters.contestedOnly = contested.checked;
    render();
  });
  const filterBar = h(
    'div',
    { class: 'matrix-filters', role: 'group', 'aria-label': t('remiss.matrix.filters') },
    h(
      'div',
      { class: 'field field--inline' },
      h('label', { for: orgId, class: 'field__label' }, t('remiss.matrix.org')),
      orgSelect,
    ),
    h(
      'div',
      { class: 'field field--inline' },
      h('label', { for: stanceId, class: 'field__label' }, t('remiss.matrix.stance')),
      stanceSelect,
    ),
    h(
      'div',
      { class: 'field field--inline field--check' },
      contested,
      h('label', { for: contestedId }, t('remiss.matrix.contestedOnly')),
    ),
  );

  const fillOrgs = () => {
    const orgs = matrix?.organisations ?? [];
    if (filters.org && !orgs.some((o) => o.id === filters.org)) filters.org = '';
    orgSelect.replaceChildren(
      h('option', { value: '' }, t('remiss.matrix.allOrgs')),
      ...orgs.map((o) => h('option', { value: o.id, selected: o.id === filters.org }, o.name)),
    );
  };

  const link = (point: MatrixPoint, rowLabel: string, orgName: string) => {
    const text = pointText(point);
    const a = h(
      'a',
      {
        href: `#thread-${point.thread}`,
        class: 'matrix-point',
        'data-thread-id': point.thread,
        'aria-label': t('remiss.matrix.openThread', { point: text, org: orgName, row: rowLabel }),
      },
      text,
    );
    a.addEventListener('click', (event) => {
      event.preventDefault();
      openThread(point.thread);
    });
    return a;
  };

  const render = () => {
    if (!matrix) return;
    const columns = matrix.organisations
      .map((org, index) => ({ org, index }))
      .filter(({ org }) => !filters.org || org.id === filters.org);
    const shown = (p: MatrixPoint) => !filters.stance || p.stance === filters.stance;
    const rows = matrix.rows.filter(
      (row) =>
        (!filters.contestedOnly || row.contested) &&
        columns.some(({ index }) => (row.cells[index] ?? []).some(shown)),
    );
    if (rows.length === 0) {
      tableSlot.replaceChildren(
        h(
          'p',
          { class: 'hint', 'data-testid': 'matrix-empty' },
          matrix.rows.length === 0 ? t('remiss.matrix.none') : t('remiss.matrix.noneMatch'),
        ),
      );
      return;
    }
    const body = rows.map((row) => {
      const label = rowLabel(row);
      return h(
        'tr',
        { class: row.contested ? 'matrix-row matrix-row--contested' : 'matrix-row' },
        h(
          'th',
          { scope: 'row' },
          label,
          row.contested ? ' ' : null,
          row.contested
            ? h('span', { class: 'badge badge--contested' }, t('remiss.matrix.contested'))
            : null,
        ),
        columns.map(({ org, index }) => {
          const points = (row.cells[index] ?? []).filter(shown);
          return h(
            'td',
            {},
            points.length === 0
              ? [h('span', { 'aria-hidden': 'true' }, '–'), srOnly(t('remiss.matrix.nothing'))]
              : h(
                  'ul',
                  { class: 'matrix-points' },
                  points.map((p) => h('li', {}, link(p, label, org.name))),
                ),
          );
        }),
      );
    });
    tableSlot.replaceChildren(
      h(
        'table',
        { class: 'table table--compact matrix', 'data-testid': 'matrix-table' },
        h('caption', {}, t('remiss.matrix.caption')),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, t('remiss.matrix.paragraph')),
            columns.map(({ org }) => h('th', { scope: 'col' }, org.name)),
          ),
        ),
        h('tbody', {}, body),
      ),
    );
  };

  let seq = 0;
  const reload = async () => {
    const mine = ++seq;
    try {
      const next = await api.remissMatrix(docId);
      if (mine !== seq) return;
      matrix = next;
      status.textContent = '';
      fillOrgs();
      render();
    } catch (error) {
      if (mine !== seq) return;
      status.textContent = t('remiss.matrix.failed', { message: describeError(error) });
    }
  };
  void reload();

  return {
    el: section(
      'remiss-matrix',
      'remiss.matrix.title',
      h('p', { class: 'hint' }, t('remiss.matrix.intro')),
      filterBar,
      tableSlot,
      status,
    ),
    reload,
  };
}

/** "3.2 Stadsutveckling, stycke 2", the heading's own label, or deleted text. */
function rowLabel(row: RemissMatrix['rows'][number]): string {
  if (row.section === null || row.section === undefined) return t('remiss.matrix.deleted');
  if (row.paragraphInSection === null || row.paragraphInSection === undefined) return row.section;
  return t('remiss.matrix.inSection', { section: row.section, n: String(row.paragraphInSection) });
}

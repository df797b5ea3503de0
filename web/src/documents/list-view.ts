/** `/`: the documents I can see, with owner, my role and last edit; and a form to make one. */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import type { DocumentInfo } from '../api/types';
import { documentPath, type View } from '../app/router';
import { currentSession } from '../auth/session';
import { h, replaceChildren } from '../dom';
import { formatDateTime, t } from '../i18n';
import { createForm } from './create-form';

/** The last list fetched (per user), so a language switch redraws without "Loading". */
let lastFetched: { token: string; docs: DocumentInfo[] } | null = null;

export function listView(): View {
  let destroyed = false;
  const token = currentSession()?.user.id ?? '';
  const cached = lastFetched?.token === token ? lastFetched.docs : null;
  const heading = h('h1', { tabindex: '-1' }, t('list.title'));
  const listSlot = h(
    'div',
    { class: 'doc-list', 'aria-busy': cached ? null : 'true' },
    cached ? renderTable(cached) : h('p', { class: 'muted' }, t('app.loading')),
  );

  const load = async () => {
    try {
      const docs = await api.documents();
      if (destroyed) return;
      lastFetched = { token, docs };
      replaceChildren(listSlot, renderTable(docs));
    } catch (error) {
      if (destroyed) return;
      replaceChildren(
        listSlot,
        h(
          'div',
          { class: 'alert alert--error', role: 'alert' },
          t('list.loadFailed', { message: describeError(error) }),
        ),
      );
    } finally {
      listSlot.removeAttribute('aria-busy');
    }
  };
  void load();

  const el = h(
    'div',
    { class: 'page' },
    h('div', { class: 'page__intro' }, heading, h('p', { class: 'lead' }, t('list.intro'))),
    listSlot,
    createForm(),
  );
  return {
    el,
    title: t('list.title'),
    focusTarget: heading,
    destroy() {
      destroyed = true;
    },
  };
}

function renderTable(docs: DocumentInfo[]): HTMLElement {
  if (docs.length === 0) return h('p', { class: 'muted' }, t('list.empty'));
  return h(
    'table',
    { class: 'table table--stack' },
    h('caption', { class: 'visually-hidden' }, t('list.caption')),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, t('list.colTitle')),
        h('th', { scope: 'col' }, t('list.colOwner')),
        h('th', { scope: 'col' }, t('list.colRole')),
        h('th', { scope: 'col' }, t('list.colUpdated')),
      ),
    ),
    h(
      'tbody',
      {},
      docs.map((doc) =>
        h(
          'tr',
          { 'data-doc-id': doc.id },
          h('th', { scope: 'row' }, h('a', { href: documentPath(doc.id) }, doc.title)),
          h('td', { 'data-label': t('list.colOwner') }, doc.ownerOrgName),
          h(
            'td',
            { 'data-label': t('list.colRole') },
            h('span', { class: `role role--${doc.role}` }, t(`role.${doc.role}`)),
          ),
          h(
            'td',
            { 'data-label': t('list.colUpdated') },
            h(
              'time',
              { datetime: new Date(doc.updatedAt).toISOString() },
              formatDateTime(doc.updatedAt),
            ),
          ),
        ),
      ),
    ),
  );
}

import { h } from '../dom';
import { t } from '../i18n';
import type { View } from './router';

export function notFoundView(): View {
  const heading = h('h1', { tabindex: '-1' }, t('app.notFound.title'));
  const el = h(
    'div',
    { class: 'page page--narrow' },
    heading,
    h('p', {}, t('app.notFound.body')),
    h('p', {}, h('a', { href: '/' }, t('app.backToDocuments'))),
  );
  return { el, title: t('app.notFound.title'), focusTarget: heading, destroy() {} };
}

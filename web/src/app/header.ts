/** The site header: name, main navigation, language switch, who is logged in, log out. */
import type { Session } from '../auth/session';
import { h } from '../dom';
import { LANGUAGE_NAMES, LANGUAGES, language, setLanguage, t } from '../i18n';
import { renderBell } from './bell';
import { type Route, SETTINGS_PATH } from './router';

export interface HeaderOptions {
  session: Session | null;
  onLogout: () => void;
  /** The current page's route, for aria-current in the navigation. */
  current: Route['name'];
}

export function renderHeader(options: HeaderOptions): HTMLElement {
  const { session, current } = options;
  const navLink = (href: string, route: string, label: string) =>
    h('li', {}, h('a', { href, 'aria-current': current === route ? 'page' : null }, label));
  const languageGroup = h(
    'div',
    { class: 'lang-switch', role: 'group', 'aria-label': t('app.language') },
    LANGUAGES.map((lang) =>
      h(
        'button',
        {
          type: 'button',
          class: 'lang-switch__button',
          lang,
          'data-lang': lang,
          'aria-pressed': String(lang === language()),
          onclick: () => setLanguage(lang),
        },
        LANGUAGE_NAMES[lang],
      ),
    ),
  );

  return h(
    'header',
    { class: 'site-header' },
    h(
      'div',
      { class: 'site-header__inner' },
      h(
        'div',
        { class: 'brand' },
        h('a', { class: 'brand__name', href: '/' }, t('app.name')),
        h('span', { class: 'brand__tagline' }, t('app.tagline')),
      ),
      session &&
        h(
          'nav',
          { class: 'site-nav', 'aria-label': t('app.mainNav') },
          h(
            'ul',
            {},
            navLink('/', 'list', t('app.documentsLink')),
            navLink(SETTINGS_PATH, 'settings', t('app.settingsLink')),
            session.user.hasPassword && navLink('/password', 'password', t('app.passwordLink')),
            session.user.admin && navLink('/admin', 'admin', t('app.adminLink')),
          ),
        ),
      h(
        'div',
        { class: 'site-header__tools' },
        languageGroup,
        session && renderBell(),
        session &&
          h(
            'p',
            { class: 'signed-in' },
            h(
              'span',
              { class: 'visually-hidden' },
              `${t('app.signedInAs', { name: session.user.name, org: session.user.orgName })}`,
            ),
            h('span', { class: 'signed-in__name', 'aria-hidden': 'true' }, session.user.name),
            h('span', { class: 'signed-in__org', 'aria-hidden': 'true' }, session.user.orgName),
          ),
        session &&
          h(
            'button',
            { type: 'button', class: 'button button--on-dark', onclick: options.onLogout },
            t('app.logout'),
          ),
      ),
    ),
  );
}

/**
 * Start-up: the page shell (skip link, header, main, live region), the route guard, and
 * drawing the current route's view. A language change draws the current view again;
 * the document view keeps its live session through that.
 */
import './styles/app.css';
import { api, onUnauthorized } from './api/client';
import { mountLiveRegion } from './app/announce';
import { stopBell } from './app/bell';
import { renderHeader } from './app/header';
import { notFoundView } from './app/not-found-view';
import { setPageTitle } from './app/page';
import {
  interceptLinks,
  loginPath,
  navigate,
  onNavigate,
  parseRoute,
  setFlash,
  type TeardownReason,
  type View,
} from './app/router';
import { settingsView } from './app/settings-view';
import { loginView } from './auth/login-view';
import { passwordView } from './auth/password-view';
import { clearSession, currentSession, saveSession } from './auth/session';
import { listView } from './documents/list-view';
import { h } from './dom';
import { applyDocumentLanguage, onLanguageChange, t } from './i18n';
import { forgetSavedCopies } from './sync/local-copy';

const root = document.getElementById('app');
if (!root) throw new Error('#app is missing from index.html');

const skipLink = h('a', { class: 'skip-link', href: '#main' });
// Focus <main> without a hash navigation (which would count as a new route).
skipLink.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
  main.scrollIntoView();
});
const headerSlot = h('div', { class: 'header-slot' });
const main = h('main', { id: 'main', tabindex: '-1' });
const liveRegion = h('div', {
  class: 'visually-hidden',
  'aria-live': 'polite',
  'data-testid': 'live-region',
});
root.replaceChildren(skipLink, headerSlot, main, liveRegion);
mountLiveRegion(liveRegion);
interceptLinks(root);

let currentView: View | null = null;
let firstRender = true;

/**
 * Ends the session: the server removes its cookie and, for a user who signed in
 * through the identity provider, names the provider's sign-out page to go on to.
 */
async function logout(): Promise<void> {
  stopBell();
  clearSession();
  await forgetSavedCopies();
  const answer = await api.logout().catch(() => ({ redirect: null }));
  if (answer.redirect) {
    window.location.assign(answer.redirect);
    return;
  }
  setFlash('login.loggedOut');
  navigate('/login');
}

function render(reason: TeardownReason): void {
  const route = parseRoute(window.location);
  const session = currentSession();
  const here = window.location.pathname + window.location.search;

  if (route.name !== 'login' && !session) {
    navigate(loginPath(here), { replace: true });
    return;
  }
  if (route.name === 'login' && session) {
    navigate(route.next, { replace: true });
    return;
  }

  const focusedLang =
    reason === 'rerender'
      ? (document.activeElement as HTMLElement | null)?.dataset?.lang
      : undefined;

  currentView?.destroy(reason);
  currentView = null;

  skipLink.textContent = t('app.skipToContent');
  headerSlot.replaceChildren(
    renderHeader({ session, onLogout: () => void logout(), current: route.name }),
  );

  let view: View;
  switch (route.name) {
    case 'login':
      view = loginView(route.next);
      break;
    case 'list':
      view = listView();
      break;
    case 'settings':
      view = settingsView();
      break;
    case 'admin':
      // Only administrators see the link; the server refuses anyone else (403).
      view = lazyView(() => import('./admin/admin-view').then((m) => m.adminView()));
      break;
    case 'password':
      view = passwordView();
      break;
    case 'document': {
      const { id } = route;
      // The editor (Tiptap, ProseMirror, Yjs) is most of the code: load it when needed.
      view = lazyView(() => import('./documents/document-view').then((m) => m.documentView(id)));
      break;
    }
    default:
      view = notFoundView();
  }
  currentView = view;
  main.replaceChildren(view.el);
  setPageTitle(view.title);

  if (focusedLang) {
    headerSlot.querySelector<HTMLElement>(`[data-lang="${focusedLang}"]`)?.focus();
  } else if (reason === 'navigate' && (!firstRender || view.autofocus)) {
    (view.focusTarget ?? main).focus();
  }
  firstRender = false;
}

/** A view whose code loads on demand; until then it says "Loading". */
function lazyView(load: () => Promise<View>): View {
  const el = h(
    'div',
    { class: 'view-slot', tabindex: '-1' },
    h('p', { class: 'muted' }, t('app.loading')),
  );
  let inner: View | null = null;
  let ended: TeardownReason | null = null;
  load().then(
    (view) => {
      if (ended) {
        view.destroy(ended);
        return;
      }
      inner = view;
      const hadFocus = document.activeElement === el;
      el.replaceChildren(view.el);
      setPageTitle(view.title);
      if (hadFocus) view.focusTarget?.focus();
    },
    () => {
      el.replaceChildren(h('p', { role: 'alert' }, t('error.network')));
    },
  );
  return {
    el,
    title: t('app.loading'),
    focusTarget: el,
    destroy(reason) {
      ended = reason;
      inner?.destroy(reason);
    },
  };
}

onUnauthorized(() => {
  setFlash('login.sessionExpired');
  navigate(loginPath(window.location.pathname + window.location.search), { replace: true });
});
onNavigate(() => render('navigate'));
onLanguageChange(() => render('rerender'));
applyDocumentLanguage();
/**
 * A browser that comes back from the identity provider has the session cookie but
 * nothing stored here yet: ask the server who it is before the route guard looks.
 */
async function start(): Promise<void> {
  if (!currentSession()) {
    const me = await api.meIfSignedIn().catch(() => null);
    if (me) saveSession({ user: me });
  }
  navigate(window.location.pathname + window.location.search + window.location.hash, {
    replace: true,
  });
}
void start();

/**
 * Client-side routes: `/` (document list), `/login`, `/d/{id}` (one document),
 * `/installningar` (my settings), `/admin` (administrators), `/password` (changing one's
 * own password). The server
 * answers every unknown path with index.html, so each of these survives a reload.
 */
import type { MessageKey } from '../i18n';

export type Route =
  | { name: 'login'; next: string }
  | { name: 'list' }
  | { name: 'document'; id: string }
  | { name: 'settings' }
  | { name: 'admin' }
  | { name: 'password' }
  | { name: 'notFound' };

/** Why a view is being taken down: a new route, or the same route drawn again (language). */
export type TeardownReason = 'navigate' | 'rerender';

export interface View {
  /** The view's root, placed inside `<main>`. */
  el: HTMLElement;
  /** The page title (document.title), in the current language. */
  title: string;
  /** Where focus goes after navigating here (usually the h1). */
  focusTarget?: HTMLElement;
  /** Focus `focusTarget` on the first page load too (the login form). */
  autofocus?: boolean;
  destroy(reason: TeardownReason): void;
}

/** My settings (notifications). */
export const SETTINGS_PATH = '/installningar';

export function parseRoute(location: Location | URL): Route {
  const path = location.pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { name: 'list' };
  if (path === SETTINGS_PATH) return { name: 'settings' };
  if (path === '/admin') return { name: 'admin' };
  if (path === '/password') return { name: 'password' };
  if (path === '/login') {
    const next = new URLSearchParams(location.search).get('next');
    return { name: 'login', next: safeNext(next) };
  }
  const doc = /^\/d\/([^/]+)$/.exec(path);
  if (doc?.[1]) {
    try {
      return { name: 'document', id: decodeURIComponent(doc[1]) };
    } catch {
      return { name: 'notFound' };
    }
  }
  return { name: 'notFound' };
}

/** Only same-origin paths may be a post-login destination. */
function safeNext(next: string | null): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/login')) {
    return '/';
  }
  return next;
}

export function documentPath(id: string): string {
  return `/d/${encodeURIComponent(id)}`;
}

export function loginPath(next?: string): string {
  return next && next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login';
}

let flash: MessageKey | null = null;

/** A message for the next view to show once (e.g. "you are logged out"). */
export function setFlash(key: MessageKey): void {
  flash = key;
}

export function takeFlash(): MessageKey | null {
  const key = flash;
  flash = null;
  return key;
}

type NavigateListener = () => void;
let listener: NavigateListener = () => {};

/** The route last drawn (path and query); a change of the hash alone is no new route. */
let drawn = '';
const here = () => window.location.pathname + window.location.search;

export function onNavigate(handler: NavigateListener): void {
  listener = () => {
    drawn = here();
    handler();
  };
  window.addEventListener('popstate', () => {
    if (here() !== drawn) listener();
  });
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  listener();
}

/**
 * Makes plain `<a href="/…">` links navigate inside the app; one marked
 * `data-external` (the identity provider's sign-in, served by the server) is left to
 * the browser.
 */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const target = event.target as Element | null;
    const anchor = target?.closest('a');
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    if (anchor.hasAttribute('data-external')) return;
    const href = anchor.getAttribute('href');
    if (!href?.startsWith('/') || href.startsWith('//')) return;
    event.preventDefault();
    if (href !== location.pathname + location.search) navigate(href);
  });
}

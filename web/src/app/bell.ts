/**
 * The notification bell in the header: a button whose accessible name carries the
 * unread count ("Aviseringar, 3 olästa"), opening a list of my notifications with links
 * to the document and thread, and "mark all as read". The count shows as a number, not
 * as colour alone, and unread items say so in words.
 *
 * Live: one event stream per page (`GET /api/me/events`, Server-Sent Events with the
 * session cookie) sends the unread count and the newest item as soon as a notification
 * is raised or read (in another tab too); a new unread item is announced politely. When
 * the stream drops, it reconnects with backoff and jitter, and meanwhile the count is
 * fetched as before: when the window regains focus and once a minute.
 */
import { api } from '../api/client';
import type { Notification } from '../api/types';
import { h } from '../dom';
import { type MessageKey, t } from '../i18n';
import { announce } from './announce';

/** How often the count is refreshed while the stream is down. */
const POLL_MS = 60_000;
/** The first wait before reconnecting a dropped stream, and the longest. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;

interface BellView {
  refresh(): void;
  /** The stream's word: the count and the newest item. */
  live(unread: number, latest: Notification | null): void;
}

let current: BellView | null = null;
let polling = false;

/** The page's one stream, kept across header redraws. */
const stream = {
  source: null as EventSource | null,
  open: false,
  retryMs: RETRY_FIRST_MS,
  timer: null as number | null,
  /** The newest item already seen, so only a new one is announced. */
  latestId: null as string | null,
  /** Whether the page has heard the stream's first word yet. */
  primed: false,
};

function ensurePolling(): void {
  if (polling) return;
  polling = true;
  window.addEventListener('focus', () => current?.refresh());
  window.setInterval(() => {
    if (!stream.open) current?.refresh();
  }, POLL_MS);
}

function connect(): void {
  if (stream.source || stream.timer !== null || typeof EventSource === 'undefined') return;
  const source = new EventSource('/api/me/events');
  stream.source = source;
  source.addEventListener('open', () => {
    stream.open = true;
    stream.retryMs = RETRY_FIRST_MS;
  });
  source.addEventListener('bell', (event) => {
    let data: { unread?: number; latest?: Notification | null };
    try {
      data = JSON.parse((event as MessageEvent<string>).data);
    } catch {
      return;
    }
    if (typeof data.unread === 'number') current?.live(data.unread, data.latest ?? null);
  });
  // The token no longer holds (expired, disabled, signed out elsewhere): stop, and let
  // the next ordinary request find out (a 401 leads to the login page).
  source.addEventListener('end', () => {
    stopBell();
    current?.refresh();
  });
  source.addEventListener('error', () => {
    // The browser would retry at its own fixed pace; we back off instead.
    source.close();
    stream.source = null;
    stream.open = false;
    current?.refresh();
    const wait = stream.retryMs * (0.5 + Math.random() / 2);
    stream.retryMs = Math.min(stream.retryMs * 2, RETRY_MAX_MS);
    stream.timer = window.setTimeout(() => {
      stream.timer = null;
      connect();
    }, wait);
  });
}

/** Closes the stream (signing out); the next bell drawn with a session opens it again. */
export function stopBell(): void {
  stream.source?.close();
  stream.source = null;
  stream.open = false;
  if (stream.timer !== null) window.clearTimeout(stream.timer);
  stream.timer = null;
  stream.latestId = null;
  stream.primed = false;
  current = null;
}

function summary(item: Notification): string {
  const payload = (item.payload ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof payload[key] === 'string' ? (payload[key] as string) : '');
  return t(`notify.${item.kind}` as MessageKey, {
    title: item.documentTitle,
    by: text('by') || '–',
    org: text('org'),
    deadline: text('deadline'),
  });
}

export function renderBell(): HTMLElement {
  const panelId = 'notification-panel';
  const count = h('span', { class: 'bell__count', 'aria-hidden': 'true' }, '0');
  const button = h(
    'button',
    {
      type: 'button',
      class: 'button button--on-dark bell__button',
      'aria-expanded': 'false',
      'aria-controls': panelId,
      'aria-label': t('bell.button', { count: '0' }),
    },
    h('span', { 'aria-hidden': 'true' }, t('bell.heading')),
    ' ',
    count,
  );
  const list = h('ul', { class: 'bell__list' });
  const status = h('p', { class: 'bell__status', role: 'status' });
  const markAll = h(
    'button',
    { type: 'button', class: 'button', onclick: () => void markAllRead() },
    t('bell.markAll'),
  );
  const panel = h(
    'div',
    { id: panelId, class: 'bell__panel', hidden: true },
    h('h2', { class: 'bell__heading' }, t('bell.heading')),
    status,
    list,
    markAll,
  );

  function showCount(unread: number): void {
    count.textContent = String(unread);
    button.setAttribute('aria-label', t('bell.button', { count: String(unread) }));
    button.classList.toggle('bell__button--unread', unread > 0);
  }

  function showItems(items: Notification[]): void {
    status.textContent = items.length === 0 ? t('bell.empty') : '';
    list.replaceChildren(
      ...items.map((item) =>
        h(
          'li',
          { class: item.readAt ? 'bell__item' : 'bell__item bell__item--unread' },
          h(
            'a',
            {
              href: item.link,
              onclick: () => {
                if (!item.readAt) void api.markNotificationRead(item.id).catch(() => {});
              },
            },
            item.readAt ? null : h('strong', {}, `${t('bell.unread')}: `),
            summary(item),
          ),
        ),
      ),
    );
  }

  async function refresh(): Promise<void> {
    try {
      const inbox = await api.notifications();
      showCount(inbox.unread);
      showItems(inbox.items);
    } catch {
      status.textContent = t('bell.failed');
    }
  }

  async function markAllRead(): Promise<void> {
    const { unread } = await api.markAllNotificationsRead();
    showCount(unread);
    await refresh();
  }

  function setOpen(open: boolean): void {
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) void refresh();
  }

  button.addEventListener('click', () => setOpen(panel.hidden));
  const root = h('div', { class: 'bell' }, button, panel);
  root.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !panel.hidden) {
      setOpen(false);
      button.focus();
    }
  });
  function live(unread: number, latest: Notification | null): void {
    showCount(unread);
    const fresh = latest && latest.id !== stream.latestId ? latest : null;
    // The page's first word is the state, not news; later new items are news.
    const primed = stream.primed;
    stream.primed = true;
    if (latest) stream.latestId = latest.id;
    if (fresh && primed && !fresh.readAt) announce(t('bell.new', { summary: summary(fresh) }));
    if (!panel.hidden) void refresh();
  }

  current = { refresh: () => void refresh(), live };
  ensurePolling();
  connect();
  void refresh();
  return root;
}

/**
 * The notification bell in the header: a button whose accessible name carries the
 * unread count ("Aviseringar, 3 olästa"), opening a list of my notifications with links
 * to the document and thread, and "mark all as read". The count shows as a number, not
 * as colour alone, and unread items say so in words.
 *
 * Not live yet: the count is fetched when the header is drawn, when the window regains
 * focus and once a minute (issue 17 names a live update over a socket as the next step).
 */
import { api } from '../api/client';
import type { Notification } from '../api/types';
import { h } from '../dom';
import { type MessageKey, t } from '../i18n';

/** How often the count is refreshed while the page is open. */
const POLL_MS = 60_000;

let current: { refresh: () => void } | null = null;
let polling = false;

function ensurePolling(): void {
  if (polling) return;
  polling = true;
  window.addEventListener('focus', () => current?.refresh());
  window.setInterval(() => current?.refresh(), POLL_MS);
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
  current = { refresh: () => void refresh() };
  ensurePolling();
  void refresh();
  return root;
}

/** The connection indicator and the "here now" list, each kept current by its tracker. */
import { h, replaceChildren } from '../dom';
import { type MessageKey, t } from '../i18n';
import type { ConnectionState, ConnectionTracker } from './connection';
import type { LocalCopy, SaveState } from './local-copy';
import { type PresenceTracker, personLabel } from './presence';

export const CONNECTION_LABEL: Record<ConnectionState, MessageKey> = {
  connecting: 'connection.connecting',
  connected: 'connection.connected',
  reconnecting: 'connection.reconnecting',
  disconnected: 'connection.disconnected',
};

export interface Indicator {
  el: HTMLElement;
  destroy(): void;
}

export function connectionIndicator(tracker: ConnectionTracker): Indicator {
  const text = h('span', { class: 'connection__text' });
  const el = h(
    'p',
    { class: 'connection', 'data-testid': 'connection' },
    h('span', { class: 'connection__dot', 'aria-hidden': 'true' }),
    h('span', { class: 'visually-hidden' }, `${t('connection.label')}: `),
    text,
  );
  const draw = () => {
    const { state } = tracker.status;
    el.dataset.state = state;
    el.className = `connection connection--${state}`;
    text.textContent = t(CONNECTION_LABEL[state]);
  };
  draw();
  const off = tracker.subscribe(draw);
  return { el, destroy: off };
}

const SAVE_LABEL: Record<SaveState, MessageKey> = {
  saved: 'save.saved',
  saving: 'save.saving',
  local: 'save.local',
};

/**
 * Whether the server has everything typed here, in words ("Sparat lokalt" until it has);
 * the dot repeats it, never alone.
 */
export function saveIndicator(copy: LocalCopy): Indicator {
  const text = h('span', { class: 'save-state__text' });
  const hint = h('span', { class: 'visually-hidden' });
  const el = h(
    'p',
    { class: 'save-state', 'data-testid': 'save-state' },
    h('span', { class: 'visually-hidden' }, `${t('save.label')}: `),
    text,
    hint,
  );
  const draw = () => {
    const state = copy.state;
    el.dataset.state = state;
    el.className = `save-state save-state--${state}`;
    text.textContent = t(SAVE_LABEL[state]);
    hint.textContent = state === 'local' ? ` (${t('save.localTitle')})` : '';
    if (state === 'local') el.title = t('save.localTitle');
    else el.removeAttribute('title');
  };
  draw();
  const off = copy.subscribe(draw);
  return { el, destroy: off };
}

export function presenceList(tracker: PresenceTracker): Indicator {
  const list = h('ul', { class: 'presence__list', 'aria-labelledby': 'presence-heading' });
  const el = h(
    'section',
    { class: 'presence', 'aria-labelledby': 'presence-heading', 'data-testid': 'presence' },
    h('h2', { id: 'presence-heading', class: 'presence__heading' }, t('presence.title')),
    list,
  );
  const draw = () => {
    replaceChildren(
      list,
      tracker.list.map((person) =>
        h(
          'li',
          {
            class: `presence__person${person.isSelf ? ' presence__person--self' : ''}`,
            'data-user-id': person.id,
          },
          swatch(person.color),
          person.isSelf
            ? t('presence.you', { name: person.name })
            : personLabel({ name: person.name, org: person.org }),
        ),
      ),
    );
  };
  draw();
  const off = tracker.subscribe(draw);
  return { el, destroy: off };
}

/**
 * A colour swatch, coloured through the CSSOM: the Content-Security-Policy refuses
 * `style` attributes, and a property set this way cannot carry other declarations.
 */
function swatch(color: string): HTMLElement {
  const el = h('span', { class: 'presence__swatch', 'aria-hidden': 'true' });
  el.style.backgroundColor = color;
  return el;
}

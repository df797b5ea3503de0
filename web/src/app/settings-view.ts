/**
 * `/installningar`: my own settings: how each kind of notification reaches me (issue
 * 17): in the app and by e-mail, only in the app, only by e-mail, or not at all; and my
 * e-mail's language and digest (`mail-preferences`). Each kind is a fieldset of radio buttons (its legend names the kind), and
 * a choice is saved as soon as it is made, with the outcome said in words in a status
 * line and to screen readers, so nothing depends on seeing a colour or a tick.
 */
import { api } from '../api/client';
import type { NotificationChannel, NotificationKind, NotificationSetting } from '../api/types';
import { h, uid } from '../dom';
import { type MessageKey, t } from '../i18n';
import { announce } from './announce';
import { mailPreferencesSection } from './mail-preferences';
import type { View } from './router';

/** The choices, in the order they are offered. */
const CHANNELS: readonly NotificationChannel[] = ['both', 'in_app', 'email', 'none'];

export function settingsView(): View {
  const heading = h('h1', { tabindex: '-1' }, t('settings.title'));
  const status = h('p', { class: 'settings__status', role: 'status' });
  const form = h('form', {
    class: 'settings-form',
    'aria-describedby': 'settings-notifications-intro',
    onsubmit: (event: Event) => event.preventDefault(),
  });
  const section = h(
    'section',
    { 'aria-labelledby': 'settings-notifications' },
    h('h2', { id: 'settings-notifications' }, t('settings.notifications.heading')),
    h('p', { id: 'settings-notifications-intro' }, t('settings.notifications.intro')),
    form,
    status,
  );
  const mail = mailPreferencesSection(status);
  const el = h('div', { class: 'page page--narrow' }, heading, section, mail.el);

  let ended = false;
  api.notificationSettings().then(
    (settings) => {
      if (!ended) form.replaceChildren(...settings.map((s) => kindFieldset(s, status)));
    },
    () => {
      if (!ended) status.textContent = t('settings.loadFailed');
    },
  );

  return {
    el,
    title: t('settings.title'),
    focusTarget: heading,
    destroy() {
      ended = true;
      mail.destroy();
    },
  };
}

/** One kind's radio group; a change is saved at once and undone if the server refuses. */
function kindFieldset(setting: NotificationSetting, status: HTMLElement): HTMLElement {
  const name = uid(`notify-${setting.kind}`);
  let saved = setting.channel;
  const radios = CHANNELS.map((channel) => {
    const id = uid(`${name}-${channel}`);
    const input = h('input', {
      type: 'radio',
      id,
      name,
      value: channel,
      checked: channel === saved,
      onchange: () => void save(setting.kind, channel),
    });
    return {
      channel,
      input,
      el: h('div', { class: 'radio' }, input, h('label', { for: id }, channelLabel(channel))),
    };
  });

  async function save(kind: NotificationKind, channel: NotificationChannel): Promise<void> {
    const kindName = t(`settings.kind.${kind}` as MessageKey);
    try {
      await api.setNotificationChannel(kind, channel);
      saved = channel;
      const message = t('settings.saved', { kind: kindName, channel: channelLabel(channel) });
      status.textContent = message;
      announce(message);
    } catch {
      for (const radio of radios) radio.input.checked = radio.channel === saved;
      status.textContent = t('settings.saveFailed', { kind: kindName });
    }
  }

  return h(
    'fieldset',
    { class: 'settings-form__kind', 'data-kind': setting.kind },
    h('legend', {}, t(`settings.kind.${setting.kind}` as MessageKey)),
    radios.map((radio) => radio.el),
  );
}

function channelLabel(channel: NotificationChannel): string {
  return t(`settings.channel.${channel}` as MessageKey);
}

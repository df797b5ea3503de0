/**
 * The settings page's "E-post" section (issue 17): the language of my notification
 * e-mail (Swedish or English) and whether it goes at once or collected in one message a
 * day. Two radio groups, saved as soon as a choice is made, the outcome said in a status
 * line and to screen readers; a refused save puts the radio back.
 */
import { api } from '../api/client';
import type { EmailDigest, MailLanguage, Preferences } from '../api/types';
import { h, uid } from '../dom';
import { LANGUAGE_NAMES, type MessageKey, t } from '../i18n';
import { announce } from './announce';

const LANGUAGES: readonly MailLanguage[] = ['sv', 'en'];
const DIGESTS: readonly EmailDigest[] = ['immediate', 'daily'];

/** `status` is the page's status line, shared with the notification settings. */
export function mailPreferencesSection(status: HTMLElement): { el: HTMLElement; destroy(): void } {
  const form = h('form', {
    class: 'settings-form',
    'aria-describedby': 'settings-mail-intro',
    onsubmit: (event: Event) => event.preventDefault(),
  });
  const el = h(
    'section',
    { 'aria-labelledby': 'settings-mail', 'data-testid': 'mail-preferences' },
    h('h2', { id: 'settings-mail' }, t('settings.mail.heading')),
    h('p', { id: 'settings-mail-intro' }, t('settings.mail.intro')),
    form,
  );
  let ended = false;
  api.preferences().then(
    (saved) => {
      if (ended) return;
      let current = saved;
      const save = async (change: Partial<Preferences>, label: string, undo: () => void) => {
        try {
          current = await api.setPreferences(change);
          const message = t('settings.mail.saved', { choice: label });
          status.textContent = message;
          announce(message);
        } catch {
          undo();
          status.textContent = t('settings.mail.saveFailed');
        }
      };
      form.replaceChildren(
        group(
          'settings.mail.language',
          LANGUAGES.map((l) => ({ value: l, label: LANGUAGE_NAMES[l] })),
          () => current.language,
          (language, label, undo) => void save({ language }, label, undo),
        ),
        group(
          'settings.mail.digest',
          DIGESTS.map((d) => ({ value: d, label: t(`settings.digest.${d}` as MessageKey) })),
          () => current.emailDigest,
          (emailDigest, label, undo) => void save({ emailDigest }, label, undo),
        ),
      );
    },
    () => {
      if (!ended) status.textContent = t('settings.loadFailed');
    },
  );
  return {
    el,
    destroy() {
      ended = true;
    },
  };
}

/** A radio group whose change calls `chosen`, with `undo` to put the saved one back. */
function group<V extends string>(
  legend: MessageKey,
  options: { value: V; label: string }[],
  saved: () => V,
  chosen: (value: V, label: string, undo: () => void) => void,
): HTMLElement {
  const name = uid('mail-pref');
  const inputs: { value: V; input: HTMLInputElement }[] = [];
  const undo = () => {
    for (const i of inputs) i.input.checked = i.value === saved();
  };
  const radios = options.map(({ value, label }) => {
    const id = uid(`${name}-${value}`);
    const input = h('input', {
      type: 'radio',
      id,
      name,
      value,
      checked: value === saved(),
      onchange: () => chosen(value, label, undo),
    });
    inputs.push({ value, input });
    return h('div', { class: 'radio' }, input, h('label', { for: id }, label));
  });
  return h('fieldset', { class: 'settings-form__kind' }, h('legend', {}, t(legend)), radios);
}

/**
 * "Byt lösenord": a password user changes their own password. The current one is
 * checked by the server under the login throttle; the new one needs ten characters.
 * The change ends the user's other sign-ins; this browser's cookie is renewed by the
 * answer.
 */
import { ApiError, changeOwnPassword } from '../api/client';
import { describeError } from '../api/errors';
import { announce } from '../app/announce';
import type { View } from '../app/router';
import { h } from '../dom';
import { t } from '../i18n';

/** The server's minimum (`auth::directory::MIN_PASSWORD_CHARS`). */
const MIN_PASSWORD_CHARS = 10;

export function passwordView(): View {
  const heading = h('h1', { id: 'password-heading', tabindex: '-1' }, t('password.title'));
  const errorBox = h('div', { class: 'alert alert--error', role: 'alert', hidden: true });
  const done = h('p', { class: 'alert alert--info', role: 'status', hidden: true });
  const input = (id: string, autocomplete: string) =>
    h('input', { id, name: id, type: 'password', autocomplete, required: true });
  const current = input('password-current', 'current-password');
  const fresh = input('password-new', 'new-password');
  const again = input('password-again', 'new-password');
  const hint = h(
    'p',
    { class: 'field__hint', id: 'password-new-hint' },
    t('password.hint', { min: MIN_PASSWORD_CHARS }),
  );
  fresh.setAttribute('aria-describedby', hint.id);
  const submit = h(
    'button',
    { type: 'submit', class: 'button button--primary' },
    t('password.submit'),
  );

  const refuse = (message: string, focus: HTMLInputElement) => {
    errorBox.textContent = message;
    errorBox.hidden = false;
    focus.focus();
  };

  const form = h(
    'form',
    {
      class: 'form',
      novalidate: true,
      'aria-labelledby': heading.id,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        errorBox.hidden = true;
        done.hidden = true;
        if (!current.value) return refuse(t('password.missingCurrent'), current);
        if ([...fresh.value].length < MIN_PASSWORD_CHARS) {
          return refuse(t('password.tooShort', { min: MIN_PASSWORD_CHARS }), fresh);
        }
        if (fresh.value !== again.value) return refuse(t('password.mismatch'), again);
        submit.disabled = true;
        try {
          await changeOwnPassword(current.value, fresh.value);
          for (const field of [current, fresh, again]) field.value = '';
          done.textContent = t('password.changed');
          done.hidden = false;
          announce(t('password.changed'));
        } catch (error) {
          const wrong = error instanceof ApiError && error.status === 401;
          refuse(wrong ? t('password.wrongCurrent') : describeError(error), current);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h(
      'div',
      { class: 'field' },
      h('label', { for: current.id, class: 'field__label' }, t('password.current')),
      current,
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: fresh.id, class: 'field__label' }, t('password.new')),
      hint,
      fresh,
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: again.id, class: 'field__label' }, t('password.again')),
      again,
    ),
    errorBox,
    done,
    h('div', { class: 'form__actions' }, submit),
  );
  const el = h('div', { class: 'page page--narrow' }, h('div', { class: 'card' }, heading, form));
  return { el, title: t('password.title'), focusTarget: heading, destroy() {} };
}

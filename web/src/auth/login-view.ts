/** The login page: username and password, errors said plainly and linked to the form. */
import { ApiError, api } from '../api/client';
import { describeError } from '../api/errors';
import { navigate, takeFlash, type View } from '../app/router';
import { h } from '../dom';
import { t } from '../i18n';
import { saveSession } from './session';

export function loginView(next: string): View {
  const flash = takeFlash();
  const errorBox = h('div', { class: 'alert alert--error', role: 'alert', hidden: true });
  const username = h('input', {
    id: 'login-username',
    name: 'username',
    type: 'text',
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
  });
  const password = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h(
    'button',
    { type: 'submit', class: 'button button--primary' },
    t('login.submit'),
  );

  const showError = (message: string) => {
    errorBox.textContent = message;
    errorBox.hidden = false;
  };

  const form = h(
    'form',
    {
      class: 'form',
      novalidate: true,
      'aria-labelledby': 'login-heading',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        errorBox.hidden = true;
        const user = username.value.trim();
        if (!user || !password.value) {
          showError(t('login.missingFields'));
          (user ? password : username).focus();
          return;
        }
        submit.disabled = true;
        submit.textContent = t('login.submitting');
        try {
          const response = await api.login(user, password.value);
          // The answer also set the HttpOnly cookie; the token in it is not kept.
          saveSession({ user: response.user });
          navigate(next, { replace: true });
        } catch (error) {
          submit.disabled = false;
          submit.textContent = t('login.submit');
          const badCredentials = error instanceof ApiError && error.status === 401;
          showError(badCredentials ? t('login.badCredentials') : describeError(error));
          password.value = '';
          password.focus();
        }
      },
    },
    h(
      'div',
      { class: 'field' },
      h('label', { for: username.id, class: 'field__label' }, t('login.username')),
      username,
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: password.id, class: 'field__label' }, t('login.password')),
      password,
    ),
    errorBox,
    h('div', { class: 'form__actions' }, submit),
  );

  // One button per identity provider the server signs in through (the city's staff
  // IdP, a federation for external remissinstanser): plain links, since the sign-in is
  // a navigation to the provider and back.
  const providerSlot = h('div', { class: 'login__provider' });
  void api.signInMethods().then(
    (methods) => {
      if (methods.providers.length === 0) return;
      providerSlot.replaceChildren(
        h(
          'ul',
          { class: 'login__providers' },
          methods.providers.map((provider) =>
            h(
              'li',
              {},
              h(
                'a',
                {
                  href: provider.loginUrl,
                  class: 'button button--primary',
                  'data-external': 'true',
                },
                provider.name ? t('login.oidcAt', { name: provider.name }) : t('login.oidc'),
              ),
            ),
          ),
        ),
        h('p', { class: 'muted' }, t('login.orPassword')),
      );
    },
    () => {},
  );
  const heading = h('h1', { id: 'login-heading', tabindex: '-1' }, t('login.title'));
  const el = h(
    'div',
    { class: 'page page--narrow login' },
    h(
      'div',
      { class: 'card' },
      heading,
      flash && h('div', { class: 'alert alert--info', role: 'status' }, t(flash)),
      h('p', { class: 'lead' }, t('login.intro')),
      providerSlot,
      form,
    ),
  );

  return { el, title: t('login.title'), focusTarget: username, autofocus: true, destroy() {} };
}

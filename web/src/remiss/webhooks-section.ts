/**
 * Webhooks (owners): register an HTTPS address for chosen events, see its signing secret
 * once, list and remove them, and read each one's deliveries.
 */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import {
  WEBHOOK_EVENTS,
  type Webhook,
  type WebhookDelivery,
  type WebhookEvent,
} from '../api/types';
import { h, replaceChildren, uid } from '../dom';
import { type MessageKey, t } from '../i18n';
import {
  actionButton,
  dataTable,
  labelled,
  openRegion,
  type Part,
  section,
  statusLine,
  submitButton,
  tableWrap,
  timeOrDash,
} from './parts';

const eventLabel = (event: string) =>
  (WEBHOOK_EVENTS as readonly string[]).includes(event)
    ? t(`webhook.event.${event}` as MessageKey)
    : event;

export function webhooksSection(docId: string): Part {
  const status = statusLine();
  const secretSlot = h('div', {});
  const listSlot = tableWrap('remiss.hooks.title');
  const deliveriesSlot = h('div', {});

  const load = async () => {
    try {
      const hooks = await api.webhooks(docId);
      replaceChildren(listSlot, hookTable(hooks));
    } catch (error) {
      replaceChildren(
        listSlot,
        h(
          'p',
          { class: 'alert alert--error', role: 'alert' },
          t('remiss.hooks.loadFailed', { message: describeError(error) }),
        ),
      );
    }
  };

  const hookRow = (hook: Webhook): HTMLElement => {
    const deliveries = actionButton(
      t('remiss.hooks.deliveries'),
      t('remiss.hooks.deliveriesLabel', { url: hook.url }),
      (b) => void showDeliveries(hook, b),
    );
    const remove = actionButton(
      t('remiss.hooks.remove'),
      t('remiss.hooks.removeLabel', { url: hook.url }),
      () => void removeHook(hook),
      'button button--small button--danger',
    );
    return h(
      'tr',
      { 'data-webhook': hook.id },
      h('th', { scope: 'row', class: 'url' }, hook.url),
      h('td', {}, hook.events.map(eventLabel).join(', ')),
      h('td', {}, h('div', { class: 'row-actions' }, deliveries, remove)),
    );
  };

  const hookTable = (hooks: Webhook[]): HTMLElement =>
    hooks.length === 0
      ? h('p', { class: 'muted' }, t('remiss.hooks.none'))
      : dataTable(
          'webhooks',
          t('remiss.hooks.caption'),
          ['remiss.hooks.colUrl', 'remiss.hooks.colEvents', 'remiss.hooks.colActions'],
          hooks.map(hookRow),
        );

  const removeHook = async (hook: Webhook) => {
    if (!window.confirm(t('remiss.hooks.confirmRemove', { url: hook.url }))) return;
    try {
      await api.removeWebhook(docId, hook.id);
      status.ok(t('remiss.hooks.removed'));
      replaceChildren(deliveriesSlot);
      await load();
    } catch (error) {
      status.fail(t('remiss.hooks.failed', { message: describeError(error) }));
    }
  };

  const showDeliveries = async (hook: Webhook, returnTo: HTMLElement) => {
    try {
      const list = await api.deliveries(docId, hook.id);
      openRegion(
        deliveriesSlot,
        'deliveries',
        t('remiss.hooks.deliveriesTitle', { url: hook.url }),
        returnTo,
        deliveryTable(list),
      );
    } catch (error) {
      status.fail(t('remiss.hooks.failed', { message: describeError(error) }));
    }
  };

  const form = registerForm(docId, status, (hook) => {
    replaceChildren(secretSlot, secretNote(hook));
    void load();
  });
  void load();
  return {
    el: section(
      'remiss-webhooks',
      'remiss.hooks.title',
      h('p', { class: 'hint' }, t('remiss.hooks.intro')),
      form,
      status.el,
      secretSlot,
      listSlot,
      deliveriesSlot,
    ),
  };
}

function registerForm(
  docId: string,
  status: ReturnType<typeof statusLine>,
  added: (hook: Webhook) => void,
): HTMLElement {
  const urlId = uid('hook-url');
  const url = h('input', { type: 'url', id: urlId, placeholder: 'https://', autocomplete: 'off' });
  const boxes = WEBHOOK_EVENTS.map((event) => {
    const id = uid('hook-event');
    const input = h('input', { type: 'checkbox', id, value: event, checked: true });
    return {
      event,
      input,
      el: h('div', { class: 'checkbox' }, input, h('label', { for: id }, eventLabel(event))),
    };
  });
  const submit = submitButton('remiss.hooks.add');
  const form = h(
    'form',
    { class: 'remiss-form', 'data-testid': 'webhook-form', novalidate: true },
    labelled(urlId, 'remiss.hooks.url', url),
    h(
      'fieldset',
      { class: 'checkbox-group' },
      h('legend', {}, t('remiss.hooks.events')),
      boxes.map((b) => b.el),
    ),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const address = url.value.trim();
    const events = boxes.filter((b) => b.input.checked).map((b) => b.event) as WebhookEvent[];
    url.removeAttribute('aria-invalid');
    if (!/^https?:\/\/\S+$/i.test(address)) {
      url.setAttribute('aria-invalid', 'true');
      status.fail(t('remiss.hooks.urlMissing'));
      url.focus();
      return;
    }
    if (events.length === 0) {
      status.fail(t('remiss.hooks.eventsMissing'));
      boxes[0]?.input.focus();
      return;
    }
    submit.disabled = true;
    api
      .addWebhook(docId, address, events)
      .then((hook) => {
        url.value = '';
        status.ok(t('remiss.hooks.added'));
        added(hook);
      })
      .catch((error: unknown) =>
        status.fail(t('remiss.hooks.failed', { message: describeError(error) })),
      )
      .finally(() => {
        submit.disabled = false;
      });
  });
  return form;
}

/** The signing secret, shown this once. */
function secretNote(hook: Webhook): HTMLElement | null {
  if (!hook.secret) return null;
  return h(
    'div',
    { class: 'alert', 'data-testid': 'webhook-secret' },
    h('p', {}, h('strong', {}, t('remiss.hooks.secretTitle', { url: hook.url }))),
    h('p', {}, t('remiss.hooks.secretIntro')),
    h('p', {}, h('code', { class: 'secret' }, hook.secret)),
  );
}

function deliveryRow(d: WebhookDelivery): HTMLElement {
  const last = d.attempts[d.attempts.length - 1];
  const answer = last
    ? last.httpStatus !== null
      ? String(last.httpStatus)
      : (last.error ?? '')
    : '';
  return h(
    'tr',
    { 'data-status': d.status },
    h('td', {}, eventLabel(d.event)),
    h('td', {}, t(`webhook.status.${d.status}` as MessageKey)),
    h('td', { class: 'num' }, String(d.attempts.length)),
    h('td', {}, answer),
    h('td', {}, timeOrDash(last?.at ?? d.createdAt)),
    h('td', {}, d.status === 'pending' ? timeOrDash(d.nextAttemptAt) : ''),
  );
}

function deliveryTable(list: WebhookDelivery[]): HTMLElement {
  if (list.length === 0) return h('p', { class: 'muted' }, t('remiss.hooks.noDeliveries'));
  return dataTable(
    null,
    t('remiss.hooks.deliveries'),
    [
      'remiss.hooks.colEvent',
      'remiss.hooks.colStatus',
      'remiss.hooks.colAttempts',
      'remiss.hooks.colResponse',
      'remiss.hooks.colTime',
      'remiss.hooks.colNext',
    ],
    list.map(deliveryRow),
  );
}

/**
 * The administration page (server-wide administrators): organisations, users and each
 * identity provider's organisation mapping, in three tabs, and the administration log.
 *
 * Every table has a caption and column headers, every form field a label; each row's
 * buttons name the row ("Inaktivera Anna Lind"), so a screen-reader user hears what a
 * button acts on. After a change the page reloads what it shows and says what happened
 * in a status line (and the live region); a refusal is said in an alert beside the form
 * that caused it, and focus stays where the user was.
 */
import { adminApi } from '../api/client';
import { describeError } from '../api/errors';
import type { AdminLogEntry, AdminUser, Organisation, OrgMapping, Provider } from '../api/types';
import { announce } from '../app/announce';
import type { View } from '../app/router';
import { tabs } from '../documents/tabs';
import { h, uid } from '../dom';
import { formatDateTime, type MessageKey, t } from '../i18n';

type TabId = 'orgs' | 'users' | 'mappings';

/** What the page shows, read again after each change. */
interface Directory {
  orgs: Organisation[];
  users: AdminUser[];
  providers: Provider[];
  mappings: OrgMapping[];
  log: AdminLogEntry[];
}

async function load(): Promise<Directory> {
  const [orgs, users, providers, mappings, log] = await Promise.all([
    adminApi.organisations(),
    adminApi.users(),
    adminApi.providers(),
    adminApi.mappings(),
    adminApi.log(),
  ]);
  return { orgs, users, providers, mappings, log };
}

let selectedTab: TabId = 'orgs';

export function adminView(): View {
  const heading = h('h1', { tabindex: '-1' }, t('admin.title'));
  const status = h('p', { class: 'admin__status', role: 'status' });
  const panels: Record<TabId, HTMLElement> = {
    orgs: h('section', { class: 'admin__panel' }),
    users: h('section', { class: 'admin__panel' }),
    mappings: h('section', { class: 'admin__panel' }),
  };
  const logSection = h('section', { class: 'admin__log', 'aria-labelledby': 'admin-log-heading' });
  const tabList = tabs<TabId>(
    t('admin.tabs'),
    [
      { id: 'orgs', label: t('admin.tab.orgs'), panel: panels.orgs },
      { id: 'users', label: t('admin.tab.users'), panel: panels.users },
      { id: 'mappings', label: t('admin.tab.mappings'), panel: panels.mappings },
    ],
    selectedTab,
    (id) => {
      selectedTab = id;
    },
  );
  const loadError = h('div', { class: 'alert alert--error', role: 'alert', hidden: true });

  let alive = true;
  /** Reads everything again and draws it; `said` goes to the status line. */
  const refresh = async (said?: string) => {
    try {
      const directory = await load();
      if (!alive) return;
      loadError.hidden = true;
      draw(directory);
      if (said) {
        status.textContent = said;
        announce(said);
      }
    } catch (error) {
      if (!alive) return;
      loadError.textContent = t('admin.loadFailed', { message: describeError(error) });
      loadError.hidden = false;
    }
  };

  const draw = (d: Directory) => {
    const keepFocus = focusKey(document.activeElement);
    panels.orgs.replaceChildren(...orgsPanel(d, refresh));
    panels.users.replaceChildren(...usersPanel(d, refresh));
    panels.mappings.replaceChildren(...mappingsPanel(d, refresh));
    logSection.replaceChildren(...logPanel(d.log));
    if (keepFocus) el.querySelector<HTMLElement>(`[data-focus-key="${keepFocus}"]`)?.focus();
  };

  const el = h(
    'div',
    { class: 'page admin' },
    heading,
    h('p', { class: 'lead' }, t('admin.intro')),
    loadError,
    status,
    tabList.list,
    panels.orgs,
    panels.users,
    panels.mappings,
    logSection,
  );
  void refresh();
  return {
    el,
    title: t('admin.title'),
    focusTarget: heading,
    destroy() {
      alive = false;
    },
  };
}

/** The key of a focused control that survives a redraw (forms keep their fields' ids). */
function focusKey(el: Element | null): string | null {
  return el instanceof HTMLElement ? (el.dataset.focusKey ?? null) : null;
}

type Refresh = (said?: string) => Promise<void>;

/** A labelled field; answers the wrapper and the input. */
function field(
  label: string,
  input: HTMLInputElement | HTMLSelectElement,
  hint?: string,
): HTMLElement {
  const hintEl = hint ? h('p', { class: 'field__hint', id: uid('hint') }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: input.id, class: 'field__label' }, label),
    hintEl,
    input,
  );
}

function textInput(key: string, attrs: Record<string, string | boolean> = {}): HTMLInputElement {
  return h('input', {
    id: `admin-${key}`,
    name: key,
    type: 'text',
    'data-focus-key': `admin-${key}`,
    ...attrs,
  });
}

function orgSelect(key: string, orgs: Organisation[], selected?: string): HTMLSelectElement {
  return h(
    'select',
    {
      id: `admin-${key}`,
      name: key,
      class: 'select',
      'data-focus-key': `admin-${key}`,
      required: true,
    },
    orgs.map((o) => h('option', { value: o.id, selected: o.id === selected }, o.name)),
  );
}

/**
 * A form that runs `action` on submit: an alert for a refusal (with `context`'s
 * sentences for some error codes), the status line for success.
 */
function actionForm(
  labelledBy: string,
  fields: HTMLElement[],
  submitLabel: string,
  action: () => Promise<string>,
  refresh: Refresh,
  context: Partial<Record<string, MessageKey>> = {},
): HTMLFormElement {
  const error = h('div', { class: 'alert alert--error', role: 'alert', hidden: true });
  const submit = h(
    'button',
    { type: 'submit', class: 'button button--primary', 'data-focus-key': `${labelledBy}-submit` },
    submitLabel,
  );
  return h(
    'form',
    {
      class: 'form admin__form',
      'aria-labelledby': labelledBy,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        error.hidden = true;
        submit.disabled = true;
        try {
          const said = await action();
          await refresh(said);
        } catch (failure) {
          error.textContent = describeError(failure, context);
          error.hidden = false;
          submit.disabled = false;
        }
      },
    },
    fields,
    error,
    h('div', { class: 'form__actions' }, submit),
  );
}

/** A row button that runs `action`, reporting a refusal in `errorBox`. */
function rowButton(
  label: string,
  accessibleName: string,
  focusKeyValue: string,
  action: () => Promise<string>,
  refresh: Refresh,
  errorBox: HTMLElement,
  context: Partial<Record<string, MessageKey>> = {},
  danger = false,
): HTMLButtonElement {
  return h(
    'button',
    {
      type: 'button',
      class: `button button--small${danger ? ' button--danger' : ''}`,
      'aria-label': accessibleName,
      'data-focus-key': focusKeyValue,
      onclick: async () => {
        errorBox.hidden = true;
        try {
          await refresh(await action());
        } catch (failure) {
          errorBox.textContent = describeError(failure, context);
          errorBox.hidden = false;
        }
      },
    },
    label,
  );
}

// ---- Organisations ----

function orgsPanel(d: Directory, refresh: Refresh): HTMLElement[] {
  const table = h(
    'table',
    { class: 'table' },
    h('caption', {}, t('admin.orgs.caption', { count: d.orgs.length })),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, t('admin.orgs.colName')),
        h('th', { scope: 'col' }, t('admin.orgs.colId')),
        h('th', { scope: 'col' }, t('admin.orgs.colUsers')),
      ),
    ),
    h(
      'tbody',
      {},
      d.orgs.map((org) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, org.name),
          h('td', {}, h('code', {}, org.id)),
          h('td', {}, String(d.users.filter((u) => u.org === org.id).length)),
        ),
      ),
    ),
  );

  const addId = textInput('org-id', { required: true, autocomplete: 'off', spellcheck: 'false' });
  const addName = textInput('org-name', { required: true, autocomplete: 'off' });
  const addHeading = h('h2', { id: 'admin-org-add-heading' }, t('admin.orgs.addHeading'));
  const add = actionForm(
    addHeading.id,
    [
      field(t('admin.orgs.id'), addId, t('admin.orgs.idHint')),
      field(t('admin.orgs.name'), addName),
    ],
    t('admin.orgs.add'),
    async () => {
      const org = await adminApi.addOrganisation(addId.value.trim(), addName.value.trim());
      return t('admin.orgs.added', { name: org.name });
    },
    refresh,
    { conflict: 'admin.error.orgTaken', bad_request: 'admin.error.badId' },
  );

  const renameOrg = orgSelect('rename-org', d.orgs);
  const renameName = textInput('rename-name', { required: true, autocomplete: 'off' });
  const renameHeading = h('h2', { id: 'admin-org-rename-heading' }, t('admin.orgs.renameHeading'));
  const rename = actionForm(
    renameHeading.id,
    [field(t('admin.orgs.which'), renameOrg), field(t('admin.orgs.newName'), renameName)],
    t('admin.orgs.rename'),
    async () => {
      const org = await adminApi.renameOrganisation(renameOrg.value, renameName.value.trim());
      return t('admin.orgs.renamed', { name: org.name });
    },
    refresh,
  );
  return [
    h('h2', { class: 'visually-hidden' }, t('admin.tab.orgs')),
    table,
    addHeading,
    add,
    ...(d.orgs.length > 0 ? [renameHeading, rename] : []),
  ];
}

// ---- Users ----

function yesNo(flag: boolean): string {
  return flag ? t('admin.yes') : t('admin.no');
}

function usersPanel(d: Directory, refresh: Refresh): HTMLElement[] {
  const rowError = h('div', { class: 'alert alert--error', role: 'alert', hidden: true });
  const lastAdmin = { conflict: 'admin.error.lastAdmin' } as const;
  const table = h(
    'table',
    { class: 'table table--compact' },
    h('caption', {}, t('admin.users.caption', { count: d.users.length })),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, t('admin.users.colName')),
        h('th', { scope: 'col' }, t('admin.users.colId')),
        h('th', { scope: 'col' }, t('admin.users.colEmail')),
        h('th', { scope: 'col' }, t('admin.users.colOrg')),
        h('th', { scope: 'col' }, t('admin.users.colActive')),
        h('th', { scope: 'col' }, t('admin.users.colAdmin')),
        h('th', { scope: 'col' }, t('admin.users.colLastSignIn')),
        h('th', { scope: 'col' }, t('admin.users.colActions')),
      ),
    ),
    h(
      'tbody',
      {},
      d.users.map((user) =>
        h(
          'tr',
          { 'data-user': user.id },
          h('th', { scope: 'row' }, user.name),
          h('td', {}, h('code', {}, user.id)),
          h('td', {}, user.email ?? '–'),
          h('td', {}, user.orgName),
          h('td', {}, yesNo(user.active)),
          h('td', {}, yesNo(user.admin)),
          h('td', {}, user.lastSignInAt ? formatDateTime(user.lastSignInAt) : '–'),
          h(
            'td',
            { class: 'admin__actions' },
            rowButton(
              user.active ? t('admin.users.disable') : t('admin.users.enable'),
              t(user.active ? 'admin.users.disableLabel' : 'admin.users.enableLabel', {
                name: user.name,
              }),
              `active-${user.id}`,
              async () => {
                await adminApi.setActive(user.id, !user.active);
                return t(user.active ? 'admin.users.disabled' : 'admin.users.enabled', {
                  name: user.name,
                });
              },
              refresh,
              rowError,
              lastAdmin,
              user.active,
            ),
            rowButton(
              user.admin ? t('admin.users.unmakeAdmin') : t('admin.users.makeAdmin'),
              t(user.admin ? 'admin.users.unmakeAdminLabel' : 'admin.users.makeAdminLabel', {
                name: user.name,
              }),
              `admin-${user.id}`,
              async () => {
                await adminApi.setAdmin(user.id, !user.admin);
                return t(user.admin ? 'admin.users.adminRevoked' : 'admin.users.adminGranted', {
                  name: user.name,
                });
              },
              refresh,
              rowError,
              lastAdmin,
            ),
          ),
        ),
      ),
    ),
  );

  // Add a user.
  const id = textInput('user-id', { required: true, autocomplete: 'off', spellcheck: 'false' });
  const name = textInput('user-name', { required: true, autocomplete: 'off' });
  const email = textInput('user-email', { type: 'email', autocomplete: 'off' });
  const org = orgSelect('user-org', d.orgs);
  const password = textInput('user-password', { type: 'password', autocomplete: 'new-password' });
  const admin = h('input', {
    id: 'admin-user-admin',
    type: 'checkbox',
    'data-focus-key': 'admin-user-admin',
  });
  const addHeading = h('h2', { id: 'admin-user-add-heading' }, t('admin.users.addHeading'));
  const add = actionForm(
    addHeading.id,
    [
      field(t('admin.users.id'), id, t('admin.users.idHint')),
      field(t('admin.users.name'), name),
      field(t('admin.users.email'), email),
      field(t('admin.users.org'), org),
      field(t('admin.users.password'), password, t('admin.users.passwordHint')),
      h(
        'div',
        { class: 'field checkbox' },
        admin,
        h('label', { for: admin.id }, t('admin.users.makeAdminField')),
      ),
    ],
    t('admin.users.add'),
    async () => {
      const added = await adminApi.addUser({
        id: id.value.trim(),
        name: name.value.trim(),
        org: org.value,
        email: email.value.trim() || null,
        admin: admin.checked,
        password: password.value || null,
      });
      return t('admin.users.added', { name: added.name });
    },
    refresh,
    {
      conflict: 'admin.error.userTaken',
      bad_email: 'admin.error.badEmail',
      password_too_short: 'admin.error.passwordTooShort',
      bad_name: 'admin.error.badName',
      bad_request: 'admin.error.badId',
    },
  );

  // Edit one user: name, e-mail, organisation.
  const who = h(
    'select',
    { id: 'admin-edit-user', name: 'user', class: 'select', 'data-focus-key': 'admin-edit-user' },
    d.users.map((u) => h('option', { value: u.id }, `${u.name} (${u.id})`)),
  );
  const editName = textInput('edit-name', { autocomplete: 'off' });
  const editEmail = textInput('edit-email', { type: 'email', autocomplete: 'off' });
  const editOrg = orgSelect('edit-org', d.orgs);
  const fill = () => {
    const user = d.users.find((u) => u.id === who.value);
    editName.value = user?.name ?? '';
    editEmail.value = user?.email ?? '';
    editOrg.value = user?.org ?? '';
  };
  who.addEventListener('change', fill);
  fill();
  const editHeading = h('h2', { id: 'admin-user-edit-heading' }, t('admin.users.editHeading'));
  const edit = actionForm(
    editHeading.id,
    [
      field(t('admin.users.which'), who),
      field(t('admin.users.name'), editName),
      field(t('admin.users.email'), editEmail, t('admin.users.emailHint')),
      field(t('admin.users.org'), editOrg, t('admin.users.orgHint')),
    ],
    t('admin.users.save'),
    async () => {
      const saved = await adminApi.editUser(who.value, {
        name: editName.value.trim(),
        email: editEmail.value.trim(),
        org: editOrg.value,
      });
      return t('admin.users.saved', { name: saved.name });
    },
    refresh,
    { bad_email: 'admin.error.badEmail', bad_name: 'admin.error.badName' },
  );

  // Set a user's password.
  const pwUser = h(
    'select',
    { id: 'admin-pw-user', name: 'user', class: 'select', 'data-focus-key': 'admin-pw-user' },
    d.users.map((u) => h('option', { value: u.id }, `${u.name} (${u.id})`)),
  );
  const newPassword = textInput('pw-new', {
    type: 'password',
    autocomplete: 'new-password',
    required: true,
  });
  const pwHeading = h('h2', { id: 'admin-user-pw-heading' }, t('admin.users.passwordHeading'));
  const setPassword = actionForm(
    pwHeading.id,
    [
      field(t('admin.users.which'), pwUser),
      field(t('admin.users.newPassword'), newPassword, t('admin.users.passwordHint')),
    ],
    t('admin.users.setPassword'),
    async () => {
      const user = await adminApi.setPassword(pwUser.value, newPassword.value);
      return t('admin.users.passwordSet', { name: user.name });
    },
    refresh,
    { password_too_short: 'admin.error.passwordTooShort' },
  );

  return [
    h('h2', { class: 'visually-hidden' }, t('admin.tab.users')),
    rowError,
    table,
    addHeading,
    add,
    ...(d.users.length > 0 ? [editHeading, edit, pwHeading, setPassword] : []),
  ];
}

// ---- Organisation mapping ----

function mappingsPanel(d: Directory, refresh: Refresh): HTMLElement[] {
  const rowError = h('div', { class: 'alert alert--error', role: 'alert', hidden: true });
  const orgName = (id: string) => d.orgs.find((o) => o.id === id)?.name ?? id;
  const providerName = (issuer: string) => {
    const p = d.providers.find((x) => x.issuer === issuer);
    return p ? (p.name ?? t('admin.mappings.flagProvider')) : issuer;
  };
  const intro =
    d.providers.length === 0
      ? h('p', { class: 'muted' }, t('admin.mappings.noProviders'))
      : h(
          'ul',
          { class: 'admin__providers' },
          d.providers.map((p) =>
            h(
              'li',
              {},
              t('admin.mappings.providerLine', {
                name: p.name ?? t('admin.mappings.flagProvider'),
                issuer: p.issuer,
                claim: p.orgClaim,
              }),
            ),
          ),
        );
  const table = h(
    'table',
    { class: 'table' },
    h('caption', {}, t('admin.mappings.caption', { count: d.mappings.length })),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, t('admin.mappings.colProvider')),
        h('th', { scope: 'col' }, t('admin.mappings.colValue')),
        h('th', { scope: 'col' }, t('admin.mappings.colOrg')),
        h('th', { scope: 'col' }, t('admin.mappings.colActions')),
      ),
    ),
    h(
      'tbody',
      {},
      d.mappings.map((m) =>
        h(
          'tr',
          {},
          h('td', {}, providerName(m.provider)),
          h('th', { scope: 'row' }, m.claimValue),
          h('td', {}, orgName(m.org)),
          h(
            'td',
            {},
            rowButton(
              t('admin.mappings.remove'),
              t('admin.mappings.removeLabel', { value: m.claimValue }),
              `unmap-${m.provider}-${m.claimValue}`,
              async () => {
                await adminApi.removeMapping(m.provider, m.claimValue);
                return t('admin.mappings.removed', { value: m.claimValue });
              },
              refresh,
              rowError,
              {},
              true,
            ),
          ),
        ),
      ),
    ),
  );

  // With providers configured the administrator picks one; with none (mapping ahead of
  // the configuration) the issuer URL is typed.
  const provider: HTMLInputElement | HTMLSelectElement =
    d.providers.length > 0
      ? h(
          'select',
          {
            id: 'admin-map-provider',
            name: 'provider',
            class: 'select',
            'data-focus-key': 'admin-map-provider',
          },
          d.providers.map((p) =>
            h('option', { value: p.issuer }, p.name ?? t('admin.mappings.flagProvider')),
          ),
        )
      : textInput('map-provider', { type: 'url', required: true, autocomplete: 'off' });
  const value = textInput('map-value', { required: true, autocomplete: 'off' });
  const org = orgSelect('map-org', d.orgs);
  const addHeading = h('h2', { id: 'admin-map-add-heading' }, t('admin.mappings.addHeading'));
  const add = actionForm(
    addHeading.id,
    [
      field(t('admin.mappings.provider'), provider),
      field(t('admin.mappings.value'), value, t('admin.mappings.valueHint')),
      field(t('admin.mappings.org'), org),
    ],
    t('admin.mappings.add'),
    async () => {
      await adminApi.setMapping(provider.value, value.value.trim(), org.value);
      return t('admin.mappings.added', { value: value.value.trim(), org: orgName(org.value) });
    },
    refresh,
  );
  return [
    h('h2', { class: 'visually-hidden' }, t('admin.tab.mappings')),
    intro,
    rowError,
    table,
    addHeading,
    add,
  ];
}

// ---- Log ----

function logPanel(log: AdminLogEntry[]): HTMLElement[] {
  const heading = h('h2', { id: 'admin-log-heading' }, t('admin.log.heading'));
  if (log.length === 0) return [heading, h('p', { class: 'muted' }, t('admin.log.empty'))];
  const table = h(
    'table',
    { class: 'table table--compact' },
    h('caption', { class: 'visually-hidden' }, t('admin.log.heading')),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, t('admin.log.colTime')),
        h('th', { scope: 'col' }, t('admin.log.colActor')),
        h('th', { scope: 'col' }, t('admin.log.colAction')),
        h('th', { scope: 'col' }, t('admin.log.colSubject')),
      ),
    ),
    h(
      'tbody',
      {},
      log
        .slice(0, 50)
        .map((entry) =>
          h(
            'tr',
            {},
            h('td', {}, formatDateTime(entry.at)),
            h('td', {}, entry.actor ?? t('admin.log.commandLine')),
            h('td', {}, h('code', {}, entry.action)),
            h('td', {}, entry.subject),
          ),
        ),
    ),
  );
  return [heading, table];
}

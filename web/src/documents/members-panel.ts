/**
 * "Medlemmar": who has which role on the document. Everyone may see the list; owners also
 * invite an organisation with a role, change a role (select, then Save: arrowing through
 * a select must not save anything) and remove one. The owning organisation's own row
 * cannot be changed (the server answers 409).
 */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import { type DocumentInfo, type Member, type Organisation, ROLES, type Role } from '../api/types';
import { h, replaceChildren, uid } from '../dom';
import { t } from '../i18n';

export interface MembersPanel {
  el: HTMLElement;
  destroy(): void;
}

export const MEMBERS_PANEL_ID = 'members-panel';

export function membersPanel(info: DocumentInfo): MembersPanel {
  const isOwner = info.role === 'owner';
  let destroyed = false;
  let members: Member[] = [];
  let organisations: Organisation[] = [];

  const status = h('p', { class: 'members__status', role: 'status' });
  const errorBox = h('div', { class: 'alert alert--error', role: 'alert', hidden: true });
  const tableSlot = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('app.loading')));
  const inviteSlot = h('div');

  const showError = (message: string) => {
    errorBox.textContent = message;
    errorBox.hidden = false;
    status.textContent = '';
  };
  const showStatus = (message: string) => {
    errorBox.hidden = true;
    status.textContent = message;
  };

  const load = async () => {
    try {
      const [loadedMembers, loadedOrgs] = await Promise.all([
        api.members(info.id),
        isOwner ? api.organisations() : Promise.resolve([]),
      ]);
      if (destroyed) return;
      members = loadedMembers;
      organisations = loadedOrgs;
      draw();
    } catch (error) {
      if (destroyed) return;
      showError(t('members.loadFailed', { message: describeError(error) }));
    } finally {
      tableSlot.removeAttribute('aria-busy');
    }
  };

  /** Runs a change, reloads the list and says what happened (or what went wrong). */
  const change = async (action: () => Promise<void>, success: string, focusAfter?: string) => {
    try {
      await action();
      await load();
      showStatus(success);
      if (focusAfter) el.querySelector<HTMLElement>(focusAfter)?.focus();
    } catch (error) {
      showError(t('members.failed', { message: describeError(error) }));
    }
  };

  const draw = () => {
    replaceChildren(tableSlot, renderTable());
    replaceChildren(inviteSlot, isOwner ? renderInvite() : null);
  };

  const roleSelect = (id: string, selected: Role, label: string) =>
    h(
      'select',
      { id, class: 'select', 'aria-label': label },
      ROLES.map((role) =>
        h('option', { value: role, selected: role === selected }, t(`role.${role}`)),
      ),
    );

  const renderTable = (): HTMLElement => {
    const rows = members.map((member) => {
      const isOwnerOrg = member.kind === 'org' && member.id === info.ownerOrg;
      const kind = t(member.kind === 'org' ? 'members.kind.org' : 'members.kind.user');
      const nameCell = h(
        'th',
        { scope: 'row' },
        h('span', { class: 'members__name' }, member.name),
        h(
          'span',
          { class: 'members__kind' },
          isOwnerOrg ? `${kind}, ${t('members.ownerOrg')}` : kind,
        ),
      );
      if (!isOwner || isOwnerOrg) {
        return h(
          'tr',
          { 'data-member': member.id },
          nameCell,
          h('td', {}, h('span', { class: `role role--${member.role}` }, t(`role.${member.role}`))),
          isOwner ? h('td', {}) : null,
        );
      }
      const selectId = uid('member-role');
      const select = roleSelect(selectId, member.role, t('members.roleFor', { name: member.name }));
      const save = h(
        'button',
        {
          type: 'submit',
          class: 'button button--small',
          'aria-label': t('members.saveFor', { name: member.name }),
          disabled: true,
        },
        t('members.save'),
      );
      select.addEventListener('change', () => {
        save.disabled = select.value === member.role;
      });
      const roleForm = h(
        'form',
        {
          class: 'members__role-form',
          onsubmit: (event: Event) => {
            event.preventDefault();
            const role = select.value as Role;
            void change(
              () =>
                member.kind === 'org'
                  ? api.setOrgRole(info.id, member.id, role)
                  : api.setUserRole(info.id, member.id, role),
              t('members.changed', { name: member.name, role: t(`role.${role}`) }),
              `tr[data-member="${CSS.escape(member.id)}"] select`,
            );
          },
        },
        select,
        save,
      );
      const remove = h(
        'button',
        {
          type: 'button',
          class: 'button button--small button--danger',
          'aria-label': t('members.removeFor', { name: member.name }),
          onclick: () => {
            if (!window.confirm(t('members.confirmRemove', { name: member.name }))) return;
            void change(
              () =>
                member.kind === 'org'
                  ? api.removeOrg(info.id, member.id)
                  : api.removeUser(info.id, member.id),
              t('members.removed', { name: member.name }),
              '#members-heading',
            );
          },
        },
        t('members.remove'),
      );
      return h(
        'tr',
        { 'data-member': member.id },
        nameCell,
        h('td', {}, roleForm),
        h('td', {}, remove),
      );
    });
    return h(
      'table',
      { class: 'table table--compact members__table' },
      h('caption', { class: 'visually-hidden' }, t('members.title')),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, t('members.colName')),
          h('th', { scope: 'col' }, t('members.colRole')),
          isOwner ? h('th', { scope: 'col' }, t('members.colActions')) : null,
        ),
      ),
      h('tbody', {}, rows),
    );
  };

  const renderInvite = (): HTMLElement => {
    const memberOrgs = new Set(members.filter((m) => m.kind === 'org').map((m) => m.id));
    const candidates = organisations.filter((org) => !memberOrgs.has(org.id));
    if (candidates.length === 0) {
      return h(
        'div',
        { class: 'members__invite' },
        h('h3', {}, t('members.invite.title')),
        h('p', { class: 'muted' }, t('members.invite.none')),
      );
    }
    const orgSelect = h(
      'select',
      { id: 'invite-org', class: 'select', required: true },
      h('option', { value: '' }, t('members.invite.choose')),
      candidates.map((org) => h('option', { value: org.id }, org.name)),
    );
    const inviteRole = h(
      'select',
      { id: 'invite-role', class: 'select' },
      ROLES.map((role) =>
        h('option', { value: role, selected: role === 'commenter' }, t(`role.${role}`)),
      ),
    );
    return h(
      'form',
      {
        class: 'members__invite',
        'aria-labelledby': 'invite-heading',
        novalidate: true,
        onsubmit: (event: Event) => {
          event.preventDefault();
          const org = candidates.find((candidate) => candidate.id === orgSelect.value);
          if (!org) {
            orgSelect.setAttribute('aria-invalid', 'true');
            showError(t('members.invite.choose'));
            orgSelect.focus();
            return;
          }
          const role = inviteRole.value as Role;
          void change(
            () => api.setOrgRole(info.id, org.id, role),
            t('members.invited', { name: org.name, role: t(`role.${role}`) }),
            '#invite-org',
          );
        },
      },
      h('h3', { id: 'invite-heading' }, t('members.invite.title')),
      h(
        'div',
        { class: 'members__invite-fields' },
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'invite-org', class: 'field__label' }, t('members.invite.org')),
          orgSelect,
        ),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'invite-role', class: 'field__label' }, t('members.invite.role')),
          inviteRole,
        ),
        h(
          'button',
          { type: 'submit', class: 'button button--primary' },
          t('members.invite.submit'),
        ),
      ),
    );
  };

  const el = h(
    'section',
    { id: MEMBERS_PANEL_ID, class: 'panel members', 'aria-labelledby': 'members-heading' },
    h('h2', { id: 'members-heading', tabindex: '-1' }, t('members.title')),
    h('p', { class: 'muted' }, isOwner ? t('members.intro') : t('members.ownerOnly')),
    tableSlot,
    errorBox,
    status,
    inviteSlot,
  );
  void load();
  return {
    el,
    destroy() {
      destroyed = true;
    },
  };
}

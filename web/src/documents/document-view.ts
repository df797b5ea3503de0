/**
 * `/d/{id}`: one document. The head (title, metadata, connection, who is here, downloads,
 * members), the editor column (toolbar, read-only note, the text at a readable measure)
 * and the comments margin on the right. The live parts belong to a `DocumentSession`
 * that survives redraws (language switch) and ends when the user leaves the document.
 */
import { ApiError } from '../api/client';
import { describeError } from '../api/errors';
import { canEdit, type DocumentInfo } from '../api/types';
import { announce } from '../app/announce';
import { setPageTitle } from '../app/page';
import { loginPath, navigate, setFlash, type TeardownReason, type View } from '../app/router';
import { clearSession, currentSession } from '../auth/session';
import { type CommentsPanel, commentsPanel } from '../comments/comments-panel';
import { followDocumentButton } from '../comments/following';
import { h, replaceChildren } from '../dom';
import { createToolbar, type Toolbar } from '../editor/toolbar';
import { formatDateTime, type MessageKey, t } from '../i18n';
import { type Part, remissPanel } from '../remiss/remiss-panel';
import { connectionIndicator, presenceList, saveIndicator } from '../sync/indicators';
import { AUTHORSHIP_PANEL_ID, type AuthorshipPanel, authorshipPanel } from './authorship-panel';
import { exportButtons } from './export';
import { MEMBERS_PANEL_ID, type MembersPanel, membersPanel } from './members-panel';
import { DocumentSession, EDITOR_ID, READONLY_NOTE_ID, type ReadonlyReason } from './session';
import { tabs } from './tabs';

let active: DocumentSession | null = null;

/** The note that says why an editor's suggesting switch is locked on. */
const SUGGEST_LOCK_ID = 'document-suggest-lock';

const READONLY_MESSAGES: Record<Exclude<ReadonlyReason, null>, MessageKey> = {
  commenter: 'doc.readonly.commenter',
  viewer: 'doc.readonly.viewer',
  offline: 'doc.readonly.offline',
  loading: 'doc.readonly.loading',
};

export function documentView(docId: string): View {
  const session = currentSession();
  if (!session) throw new Error('the route guard lets no one here without a session');
  if (active && (active.docId !== docId || active.session.user.id !== session.user.id)) {
    active.destroy();
    active = null;
  }
  const doc = active ?? new DocumentSession(docId, session);
  active = doc;

  const cleanups: (() => void)[] = [];
  let parts: { destroy(): void }[] = [];
  const heading = h('h1', { tabindex: '-1', class: 'doc-title' });
  const root = h('div', { class: 'doc-page' });

  const drawParts = () => {
    for (const part of parts) part.destroy();
    parts = [];
    const state = doc.infoState;
    if (state.kind === 'error') {
      replaceChildren(root, renderError(heading, state.error));
      heading.focus();
      setPageTitle(heading.textContent ?? '');
      return;
    }
    const info = state.kind === 'ready' ? state.info : null;
    heading.textContent = info?.title ?? t('app.loading');
    setPageTitle(info?.title ?? t('app.loading'));

    const connection = connectionIndicator(doc.connection);
    const saved = saveIndicator(doc.localCopy);
    const presence = presenceList(doc.presence);
    const comments: CommentsPanel = commentsPanel(doc);
    parts.push(connection, saved, presence, comments);

    const closedSlot = h('div', { class: 'doc-closed' });
    const drawClosed = () => replaceChildren(closedSlot, renderClosed(doc));
    drawClosed();
    parts.push({ destroy: doc.connection.subscribe(drawClosed) });

    const membersSlot = h('div', { class: 'members-slot' });
    const authorshipSlot = h('div', { class: 'authorship-slot' });
    let members: MembersPanel | null = null;
    const bar = h('div', { class: 'doc-bar' }, presence.el);
    if (info) {
      const toggle = h(
        'button',
        {
          type: 'button',
          class: 'button button--small members-toggle',
          'aria-expanded': String(doc.ui.membersOpen),
          'aria-controls': MEMBERS_PANEL_ID,
        },
        t('members.toggle'),
      );
      const showMembers = (open: boolean) => {
        doc.ui.membersOpen = open;
        toggle.setAttribute('aria-expanded', String(open));
        members?.destroy();
        members = open ? membersPanel(info) : null;
        replaceChildren(membersSlot, members?.el);
      };
      toggle.addEventListener('click', () => {
        showMembers(!doc.ui.membersOpen);
        if (doc.ui.membersOpen) membersSlot.querySelector<HTMLElement>('#members-heading')?.focus();
      });
      showMembers(doc.ui.membersOpen);
      parts.push({ destroy: () => members?.destroy() });
      const authorship = authorshipToggle(doc, info.id, authorshipSlot);
      parts.push(authorship);
      bar.append(
        h(
          'div',
          { class: 'doc-bar__actions' },
          exportButtons(info.id, () => info.title),
          authorship.button,
          followDocumentButton(doc.threads.following),
          toggle,
        ),
      );
    }

    const editorColumn = renderEditorColumn(doc, info);
    parts.push(editorColumn);

    const textPanel = h(
      'div',
      { class: 'tabpanel' },
      comments.bar,
      h('div', { class: 'doc-layout' }, editorColumn.el, comments.el),
    );
    // The Remiss panel is made when first shown and lives until the next redraw.
    const remissSlot = h('div', { class: 'tabpanel' });
    let remiss: Part | null = null;
    parts.push({ destroy: () => remiss?.destroy?.() });
    let tabControl: ReturnType<typeof tabs<'text' | 'remiss'>> | null = null;
    // A point in the Remiss tab's matrix opens its thread in the Text tab's comments.
    const openThread = (threadId: string) => {
      tabControl?.select('text');
      comments.focusThread(threadId);
    };
    tabControl = info
      ? tabs(
          t('doc.tabs'),
          [
            { id: 'text' as const, label: t('doc.tab.text'), panel: textPanel },
            { id: 'remiss' as const, label: t('doc.tab.remiss'), panel: remissSlot },
          ],
          doc.ui.tab,
          (id) => {
            doc.ui.tab = id;
            if (id === 'remiss' && !remiss) {
              remiss = remissPanel(doc, info, openThread);
              remissSlot.append(remiss.el);
            }
          },
        )
      : null;
    const tabList = tabControl?.list ?? null;

    replaceChildren(
      root,
      h(
        'div',
        { class: 'doc-head' },
        h('p', { class: 'doc-back' }, h('a', { href: '/' }, t('app.backToDocuments'))),
        h(
          'div',
          { class: 'doc-head__row' },
          h('div', { class: 'doc-head__title' }, heading, info && renderMeta(info)),
          h('div', { class: 'doc-head__status' }, connection.el, saved.el),
        ),
        closedSlot,
        bar,
        membersSlot,
        authorshipSlot,
      ),
      tabList,
      textPanel,
      remissSlot,
    );
  };

  drawParts();
  doc.refreshEditorAttributes();
  cleanups.push(
    doc.onInfo((state, previous) => {
      const focused = document.activeElement as HTMLElement | null;
      const hadFocus = focused !== null && root.contains(focused);
      drawParts();
      if (previous.kind === 'loading') {
        if (hadFocus && state.kind === 'ready') heading.focus();
      } else if (hadFocus && document.activeElement !== focused) {
        // A later change (role, title) redrew the page: keep focus where it was.
        if (doc.editorHost.contains(focused)) doc.editor.commands.focus();
        else {
          const again = focused.isConnected ? focused : document.getElementById(focused.id);
          (again ?? heading).focus();
        }
      }
      if (
        previous.kind === 'ready' &&
        state.kind === 'ready' &&
        previous.info.role !== state.info.role
      ) {
        announce(t('doc.roleChanged', { role: t(`role.${state.info.role}`) }));
      }
    }),
  );

  return {
    el: root,
    title: doc.infoState.kind === 'ready' ? doc.infoState.info.title : t('app.loading'),
    focusTarget: heading,
    destroy(reason: TeardownReason) {
      for (const off of cleanups) off();
      for (const part of parts) part.destroy();
      if (reason === 'navigate' && active === doc) {
        doc.destroy();
        active = null;
      }
    },
  };
}

/** The "Visa vem som skrivit" button and the list it opens into `slot`. */
function authorshipToggle(
  doc: DocumentSession,
  docId: string,
  slot: HTMLElement,
): { button: HTMLElement; destroy(): void } {
  let panel: AuthorshipPanel | null = null;
  const button = h(
    'button',
    {
      type: 'button',
      class: 'button button--small authorship-toggle',
      'aria-expanded': String(doc.ui.authorshipOpen),
      'aria-controls': AUTHORSHIP_PANEL_ID,
    },
    t('authorship.toggle'),
  );
  const show = (open: boolean) => {
    doc.ui.authorshipOpen = open;
    button.setAttribute('aria-expanded', String(open));
    panel?.destroy();
    panel = open ? authorshipPanel(docId) : null;
    replaceChildren(slot, panel?.el);
    // The same toggle marks the text itself by organisation.
    void doc.authorshipMarks.set(open);
  };
  button.addEventListener('click', () => {
    show(!doc.ui.authorshipOpen);
    if (doc.ui.authorshipOpen) slot.querySelector<HTMLElement>('#authorship-heading')?.focus();
  });
  show(doc.ui.authorshipOpen);
  return { button, destroy: () => panel?.destroy() };
}

function renderMeta(info: DocumentInfo): HTMLElement {
  return h(
    'p',
    { class: 'doc-meta' },
    t('doc.meta', {
      org: info.ownerOrgName,
      role: t(`role.${info.role}`),
      updated: formatDateTime(info.updatedAt),
    }),
  );
}

function renderError(heading: HTMLElement, error: unknown): HTMLElement {
  let message: string;
  if (error instanceof ApiError && error.status === 404) message = t('doc.notFound');
  else if (error instanceof ApiError && error.status === 403) message = t('doc.noAccess');
  else message = t('doc.loadFailed', { message: describeError(error) });
  heading.textContent = message;
  return h(
    'div',
    { class: 'page page--narrow' },
    heading,
    h('p', {}, h('a', { href: '/' }, t('app.backToDocuments'))),
  );
}

/** Why the server ended the connection for good, and what the user can do about it. */
function renderClosed(doc: DocumentSession): HTMLElement | null {
  const { state, closeCode } = doc.connection.status;
  if (state !== 'disconnected' || closeCode === null) return null;
  const known = [4400, 4401, 4403, 4404, 4409, 4410, 4413];
  const message = known.includes(closeCode)
    ? t(`connection.reason.${closeCode}` as MessageKey)
    : t('connection.reason.other', { code: closeCode });
  const action =
    closeCode === 4401
      ? h(
          'button',
          {
            type: 'button',
            class: 'button',
            onclick: () => {
              clearSession();
              setFlash('login.sessionExpired');
              navigate(loginPath(window.location.pathname));
            },
          },
          t('connection.loginAgain'),
        )
      : closeCode === 4403 || closeCode === 4404 || closeCode === 4410
        ? h('a', { href: '/', class: 'button' }, t('app.backToDocuments'))
        : h(
            'button',
            { type: 'button', class: 'button', onclick: () => window.location.reload() },
            t('connection.reload'),
          );
  return h(
    'div',
    { class: 'alert alert--error', role: 'alert', 'data-close-code': String(closeCode) },
    h('p', {}, message),
    action,
  );
}

function renderEditorColumn(
  doc: DocumentSession,
  info: DocumentInfo | null,
): { el: HTMLElement; destroy(): void } {
  const mayEdit = info !== null && canEdit(info.role);
  let toolbar: Toolbar | null = null;
  if (mayEdit) toolbar = createToolbar(doc.editor, EDITOR_ID);

  const note = h('p', { id: READONLY_NOTE_ID, class: 'readonly-note', hidden: true });
  // Editors and owners switch between editing and suggesting; commenters always suggest.
  const modeSwitch =
    mayEdit &&
    h(
      'button',
      {
        type: 'button',
        class: 'button button--small mode-switch',
        'aria-pressed': String(doc.suggestingOn),
        'data-testid': 'suggest-mode',
      },
      t('suggest.mode'),
    );
  // While the owners require suggestions an editor's switch stays on, says why, and
  // stays focusable (aria-disabled) so that reason is read out with it.
  const lockNote = h('p', {
    id: SUGGEST_LOCK_ID,
    class: 'hint suggest-lock',
    hidden: true,
    'data-testid': 'suggest-lock',
  });
  if (modeSwitch) {
    modeSwitch.addEventListener('click', () => {
      if (doc.suggestingLocked) {
        announce(lockNote.textContent ?? '');
        return;
      }
      doc.setSuggesting(!doc.suggestingOn);
      drawNote();
      announce(t(doc.suggestingOn ? 'suggest.modeOn' : 'suggest.modeOff'));
    });
  }
  function drawNote() {
    const reason = doc.readonlyReason;
    // In suggesting mode the note says what typing does (and, to a commenter, how to
    // comment instead); the text is described by it either way.
    const suggesting = reason === null && doc.suggestingOn;
    note.hidden = reason === null && !suggesting;
    note.textContent =
      reason !== null
        ? t(READONLY_MESSAGES[reason])
        : suggesting
          ? t(doc.role === 'commenter' ? 'suggest.noteCommenter' : 'suggest.note')
          : '';
    note.dataset.reason = reason ?? (suggesting ? 'suggesting' : '');
    note.classList.toggle('suggest-note', suggesting);
    if (modeSwitch) modeSwitch.setAttribute('aria-pressed', String(doc.suggestingOn));
    const locked = doc.suggestingLocked;
    lockNote.hidden = !locked;
    if (locked) {
      const phase = doc.remiss.round?.phase ?? 'remiss';
      lockNote.textContent = t('suggest.required', {
        phase: t(`phase.${phase}` as MessageKey).toLowerCase(),
      });
    } else lockNote.textContent = '';
    if (modeSwitch) {
      if (locked) {
        modeSwitch.setAttribute('aria-disabled', 'true');
        modeSwitch.setAttribute('aria-describedby', SUGGEST_LOCK_ID);
      } else {
        modeSwitch.removeAttribute('aria-disabled');
        modeSwitch.removeAttribute('aria-describedby');
      }
    }
  }
  drawNote();
  const offStatus = doc.connection.subscribe(drawNote);
  // The round live: the owners' rule or the phase may change while the page is open.
  const offRound = doc.remiss.subscribe(drawNote);

  // While the text is marked by organisation: what the marks are, and who wrote the text
  // at the caret or under the pointer, announced politely as it changes.
  const authorLine = h('p', { class: 'author-status__line', role: 'status' });
  const authorStatus = h(
    'div',
    { class: 'author-status', hidden: true, 'data-testid': 'author-status' },
    h('p', { class: 'muted' }, t('authorship.marks.hint')),
    authorLine,
  );
  const offAuthor = doc.authorshipMarks.subscribe((text) => {
    authorStatus.hidden = !doc.authorshipMarks.on;
    authorLine.textContent = text ?? '';
  });

  // Alt+F10 moves from the text to the toolbar (the convention of desktop word processors).
  const onKeydown = (event: KeyboardEvent) => {
    if (toolbar && event.altKey && event.key === 'F10') {
      event.preventDefault();
      toolbar.focus();
    }
  };
  doc.editorHost.addEventListener('keydown', onKeydown);

  const el = h(
    'section',
    { class: 'doc-editor', 'aria-labelledby': 'doc-text-heading' },
    h('h2', { id: 'doc-text-heading', class: 'visually-hidden' }, t('doc.textLabel')),
    toolbar?.el,
    toolbar && h('p', { class: 'visually-hidden' }, t('doc.toolbarHint')),
    modeSwitch,
    modeSwitch && lockNote,
    note,
    authorStatus,
    h('div', { class: 'paper' }, doc.editorHost),
  );
  return {
    el,
    destroy() {
      offStatus();
      offAuthor();
      offRound();
      toolbar?.destroy();
      doc.editorHost.removeEventListener('keydown', onKeydown);
    },
  };
}

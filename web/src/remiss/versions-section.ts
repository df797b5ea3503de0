/**
 * Named versions: owners save the current text under a name; everyone lists them, reads
 * one as Markdown and compares two versions, or a version and the current text.
 */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import type { Version, VersionDiff } from '../api/types';
import { fileStem, saveBlob } from '../documents/export';
import { h, replaceChildren, uid } from '../dom';
import { formatDateTime, type MessageKey, t } from '../i18n';
import { diffCounts, renderDiff } from './diff-view';
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
  todayInStockholm,
} from './parts';

const CURRENT = 'current';

export function versionsSection(docId: string, isOwner: boolean): Part {
  let versions: Version[] = [];
  const status = statusLine();
  const tableSlot = tableWrap('remiss.versions.title');
  const viewSlot = h('div', { class: 'version-view' });
  const compare = compareForm(docId, viewSlot, () => versions);

  const load = async () => {
    try {
      versions = await api.versions(docId);
      replaceChildren(tableSlot, versionTable(docId, versions, viewSlot));
      compare.refresh();
    } catch (error) {
      replaceChildren(
        tableSlot,
        h(
          'p',
          { class: 'alert alert--error', role: 'alert' },
          t('remiss.versions.loadFailed', { message: describeError(error) }),
        ),
      );
    }
  };
  replaceChildren(tableSlot, h('p', { class: 'muted' }, t('app.loading')));
  void load();

  return {
    el: section(
      'remiss-versions',
      'remiss.versions.title',
      h('p', { class: 'hint' }, t('remiss.versions.intro')),
      isOwner ? saveForm(docId, status, load) : null,
      status.el,
      tableSlot,
      compare.el,
      viewSlot,
    ),
  };
}

function saveForm(
  docId: string,
  status: ReturnType<typeof statusLine>,
  reload: () => Promise<void>,
): HTMLElement {
  const id = uid('version-name');
  const name = h('input', {
    type: 'text',
    id,
    value: t('remiss.versions.defaultName', { date: todayInStockholm() }),
    maxlength: 200,
    autocomplete: 'off',
  });
  const save = submitButton('remiss.versions.save');
  const form = h(
    'form',
    { class: 'inline-form', 'data-testid': 'save-version' },
    labelled(id, 'remiss.versions.name', name),
    save,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = name.value.trim();
    if (!value) {
      name.setAttribute('aria-invalid', 'true');
      status.fail(t('remiss.versions.nameMissing'));
      name.focus();
      return;
    }
    name.removeAttribute('aria-invalid');
    save.disabled = true;
    api
      .saveVersion(docId, value)
      .then(async (version) => {
        status.ok(t('remiss.versions.saved', { name: version.name }));
        await reload();
      })
      .catch((error: unknown) =>
        status.fail(t('remiss.versions.failed', { message: describeError(error) })),
      )
      .finally(() => {
        save.disabled = false;
      });
  });
  return form;
}

function versionTable(docId: string, versions: Version[], viewSlot: HTMLElement): HTMLElement {
  if (versions.length === 0) {
    return h('p', { class: 'muted', 'data-testid': 'versions-none' }, t('remiss.versions.none'));
  }
  return dataTable(
    'versions',
    t('remiss.versions.caption'),
    [
      'remiss.versions.colName',
      'remiss.versions.colSaved',
      'remiss.versions.colBy',
      'remiss.versions.colParagraphs',
      'remiss.versions.colActions',
    ],
    versions.map((v) =>
      h(
        'tr',
        { 'data-version': v.id },
        h('th', { scope: 'row' }, v.name),
        h('td', {}, formatDateTime(v.createdAt)),
        h('td', {}, v.createdBy.name),
        h('td', { class: 'num' }, String(v.paragraphs)),
        h(
          'td',
          {},
          h(
            'div',
            { class: 'row-actions' },
            actionButton(
              t('remiss.versions.read'),
              t('remiss.versions.readLabel', { name: v.name }),
              (b) => void showMarkdown(docId, v, viewSlot, b),
            ),
            actionButton(
              t('remiss.versions.compareCurrent'),
              t('remiss.versions.compareCurrentLabel', { name: v.name }),
              (b) => void showDiff(docId, v.id, CURRENT, viewSlot, b),
            ),
          ),
        ),
      ),
    ),
  );
}

async function showMarkdown(
  docId: string,
  version: Version,
  viewSlot: HTMLElement,
  returnTo: HTMLElement,
): Promise<void> {
  try {
    const markdown = await api.versionMarkdown(docId, version.id);
    const download = h(
      'button',
      { type: 'button', class: 'button button--small' },
      t('remiss.versions.download'),
    );
    download.addEventListener('click', () =>
      saveBlob(
        new Blob([markdown], { type: 'text/markdown;charset=utf-8' }),
        `${fileStem(version.name)}.md`,
      ),
    );
    const asFile = (format: 'docx' | 'pdf', label: MessageKey) => {
      const button = h(
        'button',
        { type: 'button', class: 'button button--small', 'data-format': format },
        t(label),
      );
      button.addEventListener('click', async () => {
        button.setAttribute('aria-busy', 'true');
        try {
          const file = await api.versionExport(docId, version.id, format);
          saveBlob(file.blob, file.filename ?? `${fileStem(version.name)}.${format}`);
        } catch (error) {
          button.after(
            h(
              'p',
              { class: 'alert alert--error', role: 'alert' },
              t('export.failed', { message: describeError(error) }),
            ),
          );
        } finally {
          button.removeAttribute('aria-busy');
        }
      });
      return button;
    };
    const word = asFile('docx', 'remiss.versions.downloadWord');
    const pdf = asFile('pdf', 'remiss.versions.downloadPdf');
    openRegion(
      viewSlot,
      'version-view',
      t('remiss.versions.textTitle', { name: version.name }),
      returnTo,
      h('p', { class: 'row-actions' }, download, word, pdf),
      h(
        'pre',
        { class: 'markdown', lang: 'sv', tabindex: '0', 'data-testid': 'version-markdown' },
        markdown,
      ),
    );
  } catch (error) {
    openRegion(viewSlot, 'version-view', version.name, returnTo, failure(error));
  }
}

function failure(error: unknown): HTMLElement {
  return h(
    'p',
    { class: 'alert alert--error', role: 'alert' },
    t('remiss.diff.failed', { message: describeError(error) }),
  );
}

async function showDiff(
  docId: string,
  from: string,
  to: string,
  viewSlot: HTMLElement,
  returnTo: HTMLElement,
): Promise<void> {
  let diff: VersionDiff;
  try {
    diff = await api.diff(docId, from, to);
  } catch (error) {
    openRegion(viewSlot, 'version-view', t('remiss.diff.title'), returnTo, failure(error));
    return;
  }
  const counts = diffCounts(diff);
  const toName = diff.to?.name ?? t('remiss.diff.current');
  const listSlot = h('div', {});
  const toggleId = uid('show-unchanged');
  const toggle = h('input', { type: 'checkbox', id: toggleId });
  const draw = () => replaceChildren(listSlot, renderDiff(diff, toggle.checked));
  toggle.addEventListener('change', draw);
  draw();
  openRegion(
    viewSlot,
    'version-view',
    t('remiss.diff.heading', { from: diff.from.name, to: toName }),
    returnTo,
    h(
      'p',
      { 'data-testid': 'diff-summary' },
      counts.added + counts.removed + counts.changed === 0
        ? t('remiss.diff.none')
        : t('remiss.diff.summary', counts),
    ),
    h(
      'p',
      { class: 'checkbox' },
      toggle,
      h('label', { for: toggleId }, t('remiss.diff.showUnchanged')),
    ),
    listSlot,
  );
}

/** Choose two versions (or a version and the current text) and compare them. */
function compareForm(
  docId: string,
  viewSlot: HTMLElement,
  versions: () => Version[],
): { el: HTMLElement; refresh(): void } {
  const fromId = uid('diff-from');
  const toId = uid('diff-to');
  const from = h('select', { id: fromId, class: 'select' });
  const to = h('select', { id: toId, class: 'select' });
  const submit = h(
    'button',
    { type: 'submit', class: 'button button--small' },
    t('remiss.diff.show'),
  );
  const form = h(
    'form',
    { class: 'inline-form', 'data-testid': 'compare' },
    h(
      'fieldset',
      {},
      h('legend', {}, t('remiss.diff.title')),
      labelled(fromId, 'remiss.diff.from', from),
      labelled(toId, 'remiss.diff.to', to),
      submit,
    ),
  );
  form.hidden = true;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void showDiff(docId, from.value, to.value, viewSlot, submit);
  });
  return {
    el: form,
    refresh() {
      const list = versions();
      form.hidden = list.length === 0;
      const option = (v: Version, selected: boolean) =>
        h('option', { value: v.id, selected }, `${v.name} (${formatDateTime(v.createdAt)})`);
      replaceChildren(
        from,
        list.map((v, i) => option(v, i === list.length - 1)),
      );
      replaceChildren(
        to,
        h('option', { value: CURRENT, selected: true }, t('remiss.diff.current')),
        list.map((v) => option(v, false)),
      );
    },
  };
}

/** Creating a document: a title, and optionally Markdown pasted or read from a .md file. */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import { announce } from '../app/announce';
import { documentPath, navigate } from '../app/router';
import { h } from '../dom';
import { t } from '../i18n';

const MAX_FILE_BYTES = 4 * 1024 * 1024;

export function createForm(): HTMLElement {
  const errorBox = h('div', { class: 'alert alert--error', role: 'alert', hidden: true });
  const title = h('input', {
    id: 'create-title',
    name: 'title',
    type: 'text',
    required: true,
    maxlength: '300',
    autocomplete: 'off',
    'aria-describedby': null,
  });
  const markdown = h('textarea', {
    id: 'create-markdown',
    name: 'markdown',
    rows: '8',
    spellcheck: 'true',
    lang: 'sv',
    'aria-describedby': 'create-markdown-hint',
  });
  const file = h('input', {
    id: 'create-file',
    name: 'file',
    type: 'file',
    accept: '.md,.markdown,text/markdown,text/plain',
  });
  const submit = h(
    'button',
    { type: 'submit', class: 'button button--primary' },
    t('create.submit'),
  );

  const showError = (message: string) => {
    errorBox.textContent = message;
    errorBox.hidden = false;
  };

  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    errorBox.hidden = true;
    try {
      if (chosen.size > MAX_FILE_BYTES) throw new Error('too large');
      markdown.value = await chosen.text();
      if (!title.value.trim()) {
        const firstHeading = /^#\s+(.+)$/m.exec(markdown.value)?.[1]?.trim();
        title.value = firstHeading ?? chosen.name.replace(/\.(md|markdown|txt)$/i, '');
      }
      announce(t('create.fileLoaded', { name: chosen.name }));
    } catch {
      showError(t('create.fileFailed'));
    }
  });

  const form = h(
    'form',
    {
      class: 'form',
      novalidate: true,
      'aria-labelledby': 'create-heading',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        errorBox.hidden = true;
        const titleText = title.value.trim();
        if (!titleText) {
          showError(t('create.titleMissing'));
          title.setAttribute('aria-invalid', 'true');
          title.focus();
          return;
        }
        title.removeAttribute('aria-invalid');
        submit.disabled = true;
        submit.textContent = t('create.submitting');
        try {
          const body = markdown.value.trim()
            ? { title: titleText, markdown: markdown.value }
            : { title: titleText };
          const doc = await api.createDocument(body);
          navigate(documentPath(doc.id));
        } catch (error) {
          submit.disabled = false;
          submit.textContent = t('create.submit');
          showError(t('create.failed', { message: describeError(error) }));
        }
      },
    },
    h(
      'div',
      { class: 'field' },
      h('label', { for: title.id, class: 'field__label' }, t('create.titleLabel')),
      title,
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: markdown.id, class: 'field__label' }, t('create.markdownLabel')),
      h('p', { id: 'create-markdown-hint', class: 'field__hint' }, t('create.markdownHint')),
      markdown,
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: file.id, class: 'field__label' }, t('create.fileLabel')),
      file,
    ),
    errorBox,
    h('div', { class: 'form__actions' }, submit),
  );

  return h(
    'section',
    { class: 'card create-doc', 'aria-labelledby': 'create-heading' },
    h('h2', { id: 'create-heading' }, t('create.title')),
    h('p', {}, t('create.intro')),
    form,
  );
}

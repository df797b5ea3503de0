/**
 * Adding, changing and removing a link, in a native modal `<dialog>` rather than
 * `window.prompt`: the page behind it is inert, it has a heading and labelled fields,
 * Escape closes it as Cancel, and focus goes back to the button that opened it.
 *
 * With text selected the link goes on that text; with the caret inside a link the whole
 * link is edited; with nothing selected a "Text" field says what to write and link.
 * Addresses go through `normalizeHref`: only http, https and mailto become links, and a
 * refused one is said in the dialog (role="alert"), never saved.
 */
import type { Editor } from '@tiptap/core';
import { h, uid } from '../dom';
import { t } from '../i18n';
import { normalizeHref } from './links';

function field(label: string, input: HTMLInputElement): HTMLElement {
  const id = uid('link-field');
  input.id = id;
  return h('p', { class: 'field' }, h('label', { for: id, class: 'field__label' }, label), input);
}

/** Opens the dialog for the editor's selection; resolves when it has closed. */
export function openLinkDialog(editor: Editor, returnFocus: HTMLElement): Promise<void> {
  const current = editor.getAttributes('link').href as string | undefined;
  const { empty } = editor.state.selection;
  const needsText = empty && !current;
  const titleId = uid('link-dialog-title');
  const href = h('input', {
    type: 'text',
    inputmode: 'url',
    autocomplete: 'url',
    class: 'input',
    'data-testid': 'link-href',
  }) as HTMLInputElement;
  href.value = current ?? '';
  const text = h('input', {
    type: 'text',
    class: 'input',
    'data-testid': 'link-text',
  }) as HTMLInputElement;
  const error = h('p', { class: 'field-error', role: 'alert', 'data-testid': 'link-error' });
  const save = h(
    'button',
    { type: 'submit', class: 'button button--primary', 'data-testid': 'link-save' },
    t('link.save'),
  );
  const remove = current
    ? h(
        'button',
        { type: 'button', class: 'button', 'data-testid': 'link-remove' },
        t('link.remove'),
      )
    : null;
  const cancel = h(
    'button',
    { type: 'button', class: 'button', 'data-testid': 'link-cancel' },
    t('link.cancel'),
  );
  const form = h(
    'form',
    { method: 'dialog', novalidate: true },
    needsText ? field(t('link.text'), text) : null,
    field(t('link.address'), href),
    h('p', { class: 'field__hint' }, t('link.hint')),
    error,
    h('div', { class: 'form-actions' }, save, remove, cancel),
  );
  const dialog = h(
    'dialog',
    { class: 'link-dialog', 'aria-labelledby': titleId, 'data-testid': 'link-dialog' },
    h('h2', { id: titleId, class: 'link-dialog__title' }, t(current ? 'link.edit' : 'link.add')),
    form,
  );

  return new Promise((resolve) => {
    // Run once the dialog has closed: while it is open the editor behind it is inert and
    // cannot take focus.
    let action: (() => void) | null = null;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const address = normalizeHref(href.value);
      if (!address) {
        error.textContent = t('link.refused');
        href.setAttribute('aria-invalid', 'true');
        href.focus();
        return;
      }
      const words = text.value.trim() || address;
      action = needsText
        ? () =>
            editor
              .chain()
              .focus()
              .insertContent({
                type: 'text',
                text: words,
                marks: [{ type: 'link', attrs: { href: address } }],
              })
              .run()
        : () => editor.chain().focus().extendMarkRange('link').setLink({ href: address }).run();
      dialog.close();
    });
    remove?.addEventListener('click', () => {
      action = () => editor.chain().focus().extendMarkRange('link').unsetLink().run();
      dialog.close();
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (action) action();
      else if (returnFocus.isConnected) returnFocus.focus();
      resolve();
    });
    document.body.append(dialog);
    dialog.showModal();
    (needsText ? text : href).focus();
  });
}

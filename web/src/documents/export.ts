/**
 * Downloads of the document as Markdown, HTML or text. A link cannot carry the
 * Authorization header, so each button fetches with the token and saves a Blob. The
 * server's HTML is a fragment (every text escaped); it is wrapped into a complete page.
 */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import type { ExportFormat } from '../api/types';
import { announce } from '../app/announce';
import { h } from '../dom';
import { type MessageKey, t } from '../i18n';

const FORMATS: {
  format: ExportFormat;
  ext: string;
  mime: string;
  text: MessageKey;
  label: MessageKey;
}[] = [
  {
    format: 'markdown',
    ext: 'md',
    mime: 'text/markdown',
    text: 'export.markdown',
    label: 'export.markdownLabel',
  },
  {
    format: 'html',
    ext: 'html',
    mime: 'text/html',
    text: 'export.html',
    label: 'export.htmlLabel',
  },
  {
    format: 'text',
    ext: 'txt',
    mime: 'text/plain',
    text: 'export.text',
    label: 'export.textLabel',
  },
];

export function exportButtons(docId: string, title: () => string): HTMLElement {
  const errorBox = h('div', {
    class: 'alert alert--error alert--inline',
    role: 'alert',
    hidden: true,
  });
  const group = h(
    'div',
    { class: 'export', role: 'group', 'aria-labelledby': 'export-heading' },
    h('span', { id: 'export-heading', class: 'export__label' }, t('export.title')),
    FORMATS.map(({ format, ext, mime, text, label }) => {
      const button = h(
        'button',
        {
          type: 'button',
          class: 'button button--small',
          'data-export': format,
          'aria-label': t(label),
        },
        t(text),
      );
      button.addEventListener('click', async () => {
        errorBox.hidden = true;
        button.setAttribute('aria-busy', 'true');
        try {
          const body = await api.exportText(docId, format);
          const file = `${fileStem(title() || docId)}.${ext}`;
          const content = format === 'html' ? wrapHtml(title(), body) : body;
          saveBlob(new Blob([content], { type: `${mime};charset=utf-8` }), file);
          announce(t('export.started', { file }));
        } catch (error) {
          errorBox.textContent = t('export.failed', { message: describeError(error) });
          errorBox.hidden = false;
        } finally {
          button.removeAttribute('aria-busy');
        }
      });
      return button;
    }),
  );
  return h('div', { class: 'export-wrap' }, group, errorBox);
}

/** Saves `blob` as a file through a temporary link (a link cannot carry the token). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** "Stockholms stads trygghetsprogram 2020–2023" → "stockholms-stads-trygghetsprogram-2020-2023". */
export function fileStem(title: string): string {
  const stem = title
    .toLowerCase()
    .replace(/[åä]/g, 'a')
    .replace(/ö/g, 'o')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return stem || 'dokument';
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function wrapHtml(title: string, fragment: string): string {
  return `<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;line-height:1.6;max-width:70ch;margin:2rem auto;padding:0 1rem;color:#1b1b1b}</style>
</head>
<body>
${fragment}
</body>
</html>
`;
}

/**
 * The participation report (förankringsrapport) and the compilation
 * (remissammanställning) to download. A link cannot carry the Authorization header, so
 * each button fetches the file with the token and saves it as a Blob, under the name the
 * server suggests or one made from the title.
 */
import { api } from '../api/client';
import { describeError } from '../api/errors';
import { fileStem, saveBlob } from '../documents/export';
import { h, uid } from '../dom';
import { type MessageKey, t } from '../i18n';
import { type Part, section, statusLine } from './parts';

interface Format {
  format: string;
  ext: string;
  label: MessageKey;
}

const REPORT: Format[] = [
  { format: 'json', ext: 'json', label: 'format.json' },
  { format: 'markdown', ext: 'md', label: 'format.markdown' },
  { format: 'html', ext: 'html', label: 'format.html' },
  { format: 'docx', ext: 'docx', label: 'format.docx' },
  { format: 'pdf', ext: 'pdf', label: 'format.pdf' },
];

const COMPILATION: Format[] = [
  { format: 'markdown', ext: 'md', label: 'format.markdown' },
  { format: 'html', ext: 'html', label: 'format.html' },
  { format: 'docx', ext: 'docx', label: 'format.docx' },
  { format: 'pdf', ext: 'pdf', label: 'format.pdf' },
  { format: 'csv', ext: 'csv', label: 'format.csv' },
];

export function downloadsSection(docId: string, title: () => string): Part {
  const status = statusLine();
  const group = (
    what: 'report' | 'compilation',
    name: MessageKey,
    hint: MessageKey,
    stem: string,
    formats: Format[],
  ) => {
    const id = uid(`${what}-heading`);
    return h(
      'div',
      { class: 'download-group', role: 'group', 'aria-labelledby': id, 'data-testid': what },
      h('h3', { id }, t(name)),
      h('p', { class: 'hint' }, t(hint)),
      h(
        'div',
        { class: 'row-actions' },
        formats.map((f) => {
          const button = h(
            'button',
            {
              type: 'button',
              class: 'button button--small',
              'aria-label': t('remiss.reports.as', { what: t(name), format: t(f.label) }),
              'data-format': f.format,
            },
            t(f.label),
          );
          button.addEventListener('click', async () => {
            button.setAttribute('aria-busy', 'true');
            try {
              const file = await api.download(docId, what, f.format);
              const filename = file.filename ?? `${stem}-${fileStem(title() || docId)}.${f.ext}`;
              saveBlob(file.blob, filename);
              status.ok(t('export.started', { file: filename }));
            } catch (error) {
              status.fail(t('export.failed', { message: describeError(error) }));
            } finally {
              button.removeAttribute('aria-busy');
            }
          });
          return button;
        }),
      ),
    );
  };
  return {
    el: section(
      'remiss-reports',
      'remiss.reports.title',
      group(
        'report',
        'remiss.reports.report',
        'remiss.reports.reportHint',
        'forankringsrapport',
        REPORT,
      ),
      group(
        'compilation',
        'remiss.reports.compilation',
        'remiss.reports.compilationHint',
        'remissammanstallning',
        COMPILATION,
      ),
      status.el,
    ),
  };
}

/**
 * "Importera från Word (.docx)" against the real server: a municipal draft that
 * LibreOffice writes as .docx in the test (from the flat ODF the API tests use) is
 * uploaded from the document list; the notice names what did not come along, and the
 * document opens with its headings and lists. Axe runs on the list with the notice.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { editor, expect, expectNoAxeViolations, login, test } from './fixtures';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../tests/api/fixtures');

/** The draft as .docx, converted by LibreOffice headless in a profile of its own. */
function draftDocx(): string {
  const dir = mkdtempSync(join(tmpdir(), 'forankra-word-'));
  const source = join(dir, 'utkast.fodt');
  writeFileSync(source, readFileSync(join(FIXTURES, 'municipal_draft.fodt')));
  execFileSync(
    'soffice',
    [
      `-env:UserInstallation=file://${join(dir, 'profile')}`,
      '--headless',
      '--convert-to',
      'docx',
      '--outdir',
      dir,
      source,
    ],
    { stdio: 'ignore', timeout: 60_000 },
  );
  return join(dir, 'utkast.docx');
}

test('a Word draft is imported from the document list with a notice of what did not come along', async ({
  page,
}) => {
  const docx = draftDocx();
  await login(page, 'maria.holmberg');
  const title = `Importerat program ${Date.now()}`;
  await page.getByLabel('Titel', { exact: true }).fill(title);
  await page.getByLabel('Word-fil (.docx)').setInputFiles(docx);
  await page.getByRole('button', { name: 'Importera', exact: true }).click();

  const notice = page.getByTestId('import-notice');
  await expect(notice).toContainText(`Dokumentet ${title} är skapat.`);
  await expect(notice).toContainText(
    '1 bild, 1 kommentar och 1 sidhuvud eller sidfot med text kom inte med.',
  );
  await expect(notice).not.toContainText('tabell');
  await expectNoAxeViolations(page, 'the document list after a Word import');

  await notice.getByRole('link', { name: `Öppna ${title}` }).click();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
  await expect(editor(page).getByRole('heading', { level: 1 })).toHaveText('1 Inledning');
  await expect(editor(page).getByRole('heading', { level: 2 })).toHaveText('3.2 Stadsutveckling');
  await expect(editor(page).locator('ul ul li')).toHaveText('Hyresrätter');
  await expect(editor(page).locator('strong')).toHaveText('hela staden');
  await expect(editor(page).locator('a[href="https://www.stockholm.se/"]')).toHaveText(
    'stadens webbplats',
  );
  // The table came along as a table with its header row.
  await expect(editor(page).locator('table th')).toHaveText(['Mål', 'År']);
  await expect(editor(page).locator('table td')).toHaveText(['Nya bostäder', '2030']);
});

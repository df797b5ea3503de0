/**
 * The Remiss tab against the real server: the audit trail verified, read and exported,
 * and axe on the panel.
 */
import { readFile } from 'node:fs/promises';
import type { Locator, Page } from '@playwright/test';
import {
  expect,
  expectNoAxeViolations,
  login,
  openDocument,
  ownedDocument,
  test,
} from './fixtures';

const TEXT =
  'Första stycket handlar om trygghet i skolan.\n\nAndra stycket gäller perioden 2020–2023.\n';

async function openRemissTab(page: Page): Promise<Locator> {
  await page.getByRole('tab', { name: 'Remiss' }).click();
  const panel = page.getByTestId('remiss-panel');
  await expect(panel).toBeVisible();
  return panel;
}

test('the owner verifies the audit trail and reads it', async ({ page, request }) => {
  const id = await ownedDocument(request, `Logg ${Date.now()}`, TEXT, 'utbildningsforvaltningen');
  await login(page, 'maria.holmberg');
  await openDocument(page, id);
  // The tabs are one tab stop; arrow keys move between them and select.
  const textTab = page.getByRole('tab', { name: 'Text och kommentarer' });
  await expect(textTab).toHaveAttribute('aria-selected', 'true');
  await textTab.focus();
  await page.keyboard.press('ArrowRight');
  const remissTab = page.getByRole('tab', { name: 'Remiss' });
  await expect(remissTab).toBeFocused();
  await expect(remissTab).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('comments-margin')).toBeHidden();
  const panel = await openRemissTab(page);
  const audit = panel.getByTestId('remiss-audit');
  await audit.getByRole('button', { name: 'Verifiera kedjan' }).click();
  await expect(audit.getByTestId('audit-verdict')).toContainText(/Kedjan är hel: alla \d+ poster/);
  await audit.getByRole('button', { name: 'Visa loggen' }).click();
  await expect(audit.getByTestId('audit')).toContainText('Organisation inbjuden');
  await expect(audit.getByRole('button', { name: 'Visa loggen' })).toHaveAttribute(
    'aria-expanded',
    'true',
  );
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    audit.getByRole('button', { name: 'Ladda ner som CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/\.csv$/);
  expect((await readFile(await download.path(), 'utf8')).split('\n').length).toBeGreaterThan(2);
  await expectNoAxeViolations(page, 'the Remiss tab with the audit trail');
});

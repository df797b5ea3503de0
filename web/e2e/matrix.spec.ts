/**
 * The consensus matrix on the Remiss tab against the real server: an invitee's points
 * appear by the draft's own section numbers with stance and outcome in words, contested
 * first; the filters narrow it; a point opened from the keyboard shows its thread in
 * the Text tab; and axe finds nothing on the view.
 */
import type { Page } from '@playwright/test';
import {
  expect,
  expectNoAxeViolations,
  loggedInPage,
  openDocument,
  ownedDocument,
  selectParagraphStart,
  test,
} from './fixtures';

const TEXT =
  '## 1 Inledning\n\nFörsta stycket handlar om trygghet i skolan.\n\n' +
  '## 2 Genomförande\n\nAndra stycket gäller perioden 2020–2023.\n';

/** Selects the first words of block `index` (the title is 0) and comments with `stance`. */
async function commentOn(
  page: Page,
  index: number,
  words: string,
  stance: string,
  body: string,
): Promise<void> {
  await selectParagraphStart(page, index, words);
  await page.keyboard.press('Control+Alt+M');
  const compose = page.getByTestId('compose');
  await compose.getByLabel(stance).check();
  await compose.getByLabel('Kommentar', { exact: true }).fill(body);
  await compose.getByRole('button', { name: 'Skicka kommentar' }).click();
  await expect(compose).toHaveCount(0);
}

test('the consensus matrix shows each point in words, filters, and opens a thread from the keyboard', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(request, `Matris ${Date.now()}`, TEXT, 'utbildningsforvaltningen');
  const maria = await loggedInPage(browser, 'maria.holmberg');
  const sara = await loggedInPage(browser, 'sara.nyberg');
  try {
    await openDocument(sara.page, id);
    await commentOn(sara.page, 2, 'Första stycket', 'Avstyrker', 'Skolan bör inte komma först.');
    await commentOn(sara.page, 4, 'Andra stycket', 'Tillstyrker', 'Bra period.');

    await openDocument(maria.page, id);
    await maria.page.getByRole('tab', { name: 'Remiss' }).click();
    const matrix = maria.page.getByTestId('remiss-matrix');
    const table = matrix.getByTestId('matrix-table');
    await expect(table.getByRole('row')).toHaveCount(3);
    await expect(table.getByRole('columnheader').nth(1)).toHaveText('Utbildningsförvaltningen');
    const rows = table.locator('tbody tr');
    await expect(rows.nth(0).getByRole('rowheader')).toHaveText('1 Inledning, stycke 1 (omstritt)');
    await expect(rows.nth(0).getByRole('cell')).toHaveText('Avstyrker – ej avgjord');
    await expect(rows.nth(1).getByRole('rowheader')).toHaveText('2 Genomförande, stycke 1');
    await expect(rows.nth(1).getByRole('cell')).toHaveText('Tillstyrker – ej avgjord');
    await expectNoAxeViolations(maria.page, 'the Remiss tab with the consensus matrix');

    // Filters: only contested, then one stance.
    await matrix.getByLabel('Bara omstridda stycken').check();
    await expect(rows).toHaveCount(1);
    await expect(rows.nth(0).getByRole('rowheader')).toContainText('1 Inledning');
    await matrix.getByLabel('Bara omstridda stycken').uncheck();
    await matrix
      .getByLabel('Ställningstagande', { exact: true })
      .selectOption({ label: 'Tillstyrker' });
    await expect(rows).toHaveCount(1);
    await expect(rows.nth(0).getByRole('rowheader')).toHaveText('2 Genomförande, stycke 1');
    await matrix
      .getByLabel('Ställningstagande', { exact: true })
      .selectOption({ label: 'Alla ställningstaganden' });
    await expect(rows).toHaveCount(2);

    // A point, reached by keyboard, opens its thread in the Text tab.
    const point = rows.nth(0).getByRole('link');
    await expect(point).toHaveAccessibleName(/Avstyrker – ej avgjord, Utbildningsförvaltningen/);
    await point.focus();
    await maria.page.keyboard.press('Enter');
    await expect(maria.page.getByRole('tab', { name: 'Text och kommentarer' })).toHaveAttribute(
      'aria-selected',
      'true',
    );
    const thread = maria.page.getByTestId('thread').filter({ hasText: 'Skolan bör inte' });
    await expect(thread).toBeFocused();
  } finally {
    await maria.context.close();
    await sara.context.close();
  }
});

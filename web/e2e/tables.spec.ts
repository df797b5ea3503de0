/**
 * Tables and links in the editor (issue 16): an owner inserts a 3×3 table from the
 * toolbar with the keyboard, types in its cells (Tab moves on), adds a row, and adds a
 * link through the link dialog, where a `javascript:` address is refused; a second
 * browser context sees the table and the link live, and axe finds nothing, the dialog
 * open or not.
 */
import {
  editor,
  expect,
  expectNoAxeViolations,
  loggedInPage,
  openDocument,
  ownedDocument,
  test,
} from './fixtures';

test('a table and a link are made with the keyboard and seen live by another reader', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(request, `Budget ${Date.now()}`, 'Fördelning per förvaltning:');
  const { context, page } = await loggedInPage(browser, 'maria.holmberg');
  const other = await loggedInPage(browser, 'maria.holmberg');
  await openDocument(page, id);
  await openDocument(other.page, id);
  const toolbar = page.getByRole('toolbar', { name: 'Textformat' });

  // The caret at the end of the paragraph, then the toolbar by keyboard.
  await editor(page).locator('p').first().click();
  await page.keyboard.press('End');
  await page.keyboard.press('Alt+F10');
  await expect(toolbar.getByRole('button', { name: 'Brödtext' })).toBeFocused();
  await expect(toolbar.getByRole('button', { name: 'Lägg till rad' })).toHaveAttribute(
    'aria-disabled',
    'true',
  );
  const insert = toolbar.getByRole('button', { name: 'Infoga tabell' });
  await insert.focus();
  await page.keyboard.press('Enter');
  const table = editor(page).locator('table');
  await expect(table.locator('tr')).toHaveCount(3);
  await expect(table.locator('tr').first().locator('th')).toHaveCount(3);

  // The caret is in the first header cell; Tab moves from cell to cell.
  for (const cell of ['Förvaltning', 'Ansvar', 'Budget', 'Skola', 'Undervisning', '340']) {
    await page.keyboard.type(cell);
    await page.keyboard.press('Tab');
  }
  await expect(table.locator('th')).toHaveText(['Förvaltning', 'Ansvar', 'Budget']);
  await expect(table.locator('tr').nth(1).locator('td')).toHaveText([
    'Skola',
    'Undervisning',
    '340',
  ]);
  await expect(toolbar.getByRole('button', { name: 'Rubrikrad' })).toHaveAttribute(
    'aria-pressed',
    'true',
  );

  // A row more, from the toolbar.
  await page.keyboard.press('Alt+F10');
  await toolbar.getByRole('button', { name: 'Lägg till rad' }).focus();
  await page.keyboard.press('Enter');
  await expect(table.locator('tr')).toHaveCount(4);

  // A link through the dialog, in the third row's first cell: a script address is
  // refused in the dialog, a bare domain becomes https.
  await page.keyboard.press('Alt+F10');
  const linkButton = toolbar.getByRole('button', { name: 'Länk', exact: true });
  await linkButton.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Lägg till länk' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Text', { exact: true })).toBeFocused();
  await page.keyboard.type('Skollagen');
  await dialog.getByLabel('Adress').fill('javascript:alert(1)');
  await page.keyboard.press('Enter');
  await expect(dialog.getByRole('alert')).toContainText('kan inte bli en länk');
  await expect(dialog.getByLabel('Adress')).toBeFocused();
  await expectNoAxeViolations(page, 'the link dialog with a refused address');
  await dialog.getByLabel('Adress').fill('riksdagen.se/skollagen');
  await page.keyboard.press('Enter');
  await expect(dialog).toHaveCount(0);
  const link = table.locator('a[href="https://riksdagen.se/skollagen"]');
  await expect(link).toHaveText('Skollagen');
  await expect(table.locator('a[href^="javascript"]')).toHaveCount(0);

  // The other reader has it all, live.
  const seen = editor(other.page).locator('table');
  await expect(seen.locator('th')).toHaveText(['Förvaltning', 'Ansvar', 'Budget']);
  await expect(seen.locator('tr')).toHaveCount(4);
  await expect(seen.locator('a[href="https://riksdagen.se/skollagen"]')).toHaveText('Skollagen');

  // Editing the link: the dialog opens on it with its address, and can remove it.
  await link.click();
  await page.keyboard.press('Alt+F10');
  await linkButton.focus();
  await page.keyboard.press('Enter');
  const edit = page.getByRole('dialog', { name: 'Ändra länk' });
  await expect(edit.getByLabel('Adress')).toHaveValue('https://riksdagen.se/skollagen');
  await edit.getByRole('button', { name: 'Ta bort länk' }).click();
  await expect(table.locator('a')).toHaveCount(0);
  await expect(table).toContainText('Skollagen');
  await expect(seen.locator('a')).toHaveCount(0);

  await expectNoAxeViolations(page, 'the editor with a table');
  await expectNoAxeViolations(other.page, 'the other reader with a table');
  await other.context.close();
  await context.close();
});

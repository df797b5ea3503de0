/**
 * "Visa vem som skrivit" (issue 16): an invited förvaltning writes in the owners' draft
 * from its own browser, and the owner's list says which organisation wrote how much of
 * the text standing now, as a table and per paragraph (text, not colour).
 */
import {
  apiToken,
  bearer,
  editor,
  expect,
  expectNoAxeViolations,
  loggedInPage,
  openDocument,
  test,
} from './fixtures';

test('the owner sees which organisation wrote how much of the text', async ({
  browser,
  request,
}) => {
  const owner = await apiToken(request, 'maria.holmberg');
  const title = `Vem skrev ${Date.now()}`;
  const created = await request.post('/api/documents', {
    ...bearer(owner),
    data: { title, markdown: `# ${title}\n\nSkolan är viktig.` },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const invited = await request.put(
    `/api/documents/${encodeURIComponent(id)}/members/utbildningsforvaltningen`,
    { ...bearer(owner), data: { role: 'editor' } },
  );
  expect(invited.ok()).toBe(true);

  const sara = await loggedInPage(browser, 'sara.nyberg');
  const maria = await loggedInPage(browser, 'maria.holmberg');
  try {
    await openDocument(sara.page, id);
    const paragraph = editor(sara.page).locator('p').first();
    await paragraph.click();
    await sara.page.keyboard.press('End');
    await sara.page.keyboard.type(' Förskolan med.');
    await expect(paragraph).toHaveText('Skolan är viktig. Förskolan med.');

    await openDocument(maria.page, id);
    // Sara's caret label sits in the paragraph too.
    await expect(editor(maria.page).locator('p').first()).toContainText(
      'Skolan är viktig. Förskolan med.',
    );
    const toggle = maria.page.getByRole('button', { name: 'Visa vem som skrivit' });
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    const panel = maria.page.getByRole('region', { name: 'Vem har skrivit texten' });
    await expect(panel.getByRole('heading', { name: 'Vem har skrivit texten' })).toBeFocused();

    const table = panel.getByRole('table', { name: 'Per organisation' });
    const utbildning = table.locator('tr[data-org="utbildningsforvaltningen"]');
    await expect(utbildning.getByRole('rowheader')).toHaveText('Utbildningsförvaltningen');
    // " Förskolan med." is 15 characters.
    await expect(utbildning.getByRole('cell').first()).toHaveText('15');
    const owners = table.locator('tr[data-org="stadsledningskontoret"]');
    await expect(owners.getByRole('cell').first()).not.toHaveText('0');

    // The paragraph (block 2: the title is block 1) names both organisations in words.
    const item = panel.locator('li[data-paragraph="1"]');
    await expect(item).toContainText('Stycke 2:');
    await expect(item).toContainText('Utbildningsförvaltningen 15 tecken');
    await expect(item).toContainText('Stadsledningskontoret 17 tecken');

    await expectNoAxeViolations(maria.page, 'the authorship list');

    await toggle.click();
    await expect(panel).toHaveCount(0);
  } finally {
    await sara.context.close();
    await maria.context.close();
  }
});

/**
 * Who made each change in a version diff (issue 16): an invited förvaltning edits the
 * owners' draft after a named version, and the owners' diff says, in words after each
 * change, which organisation inserted or struck it.
 */
import {
  apiToken,
  bearer,
  editor,
  expect,
  expectNoAxeViolations,
  loggedInPage,
  openDocument,
  selectWords,
  test,
} from './fixtures';

test('the diff names the organisation that inserted and struck each change', async ({
  browser,
  request,
}) => {
  const owner = await apiToken(request, 'maria.holmberg');
  const title = `Vem ändrade ${Date.now()}`;
  const created = await request.post('/api/documents', {
    ...bearer(owner),
    data: { title, markdown: `# ${title}\n\nSkolan är mycket viktig för barnen.` },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const docPath = `/api/documents/${encodeURIComponent(id)}`;
  const invited = await request.put(`${docPath}/members/utbildningsforvaltningen`, {
    ...bearer(owner),
    data: { role: 'editor' },
  });
  expect(invited.ok()).toBe(true);
  const saved = await request.post(`${docPath}/versions`, {
    ...bearer(owner),
    data: { name: 'Före beredningen' },
  });
  expect(saved.status()).toBe(201);

  const sara = await loggedInPage(browser, 'sara.nyberg');
  const maria = await loggedInPage(browser, 'maria.holmberg');
  try {
    await openDocument(sara.page, id);
    const paragraph = editor(sara.page).locator('p').first();
    // Replace "mycket" by "ytterst" and add a sentence at the end.
    await selectWords(sara.page, 1, 'mycket');
    await sara.page.keyboard.type('ytterst');
    await expect(paragraph).toHaveText('Skolan är ytterst viktig för barnen.');
    await paragraph.click();
    await sara.page.keyboard.press('End');
    await sara.page.keyboard.type(' Förskolan med.');
    await expect(paragraph).toHaveText('Skolan är ytterst viktig för barnen. Förskolan med.');

    await openDocument(maria.page, id);
    await expect(editor(maria.page).locator('p').first()).toContainText('Förskolan med.');
    await maria.page.getByRole('tab', { name: 'Remiss' }).click();
    const panel = maria.page.getByTestId('remiss-panel');
    await panel
      .getByRole('button', { name: 'Jämför Före beredningen med den nuvarande texten' })
      .click();
    const view = panel.getByTestId('version-view');
    await expect(
      view.getByRole('heading', { name: /Skillnader från Före beredningen/ }),
    ).toBeFocused();
    const changed = view.locator('[data-change="changed"]');
    await expect(changed.locator('del')).toContainText('mycket');
    await expect(changed.locator('ins')).toHaveCount(2);
    await expect(changed.locator('ins').first()).toContainText('ytterst');
    await expect(changed.locator('ins').last()).toContainText('Förskolan med.');
    // Each change is followed by who made it, in words, in the reading order.
    await expect(changed.locator('del + [data-testid="diff-by"]')).toHaveText(
      'Struket av Utbildningsförvaltningen (Sara Nyberg)',
    );
    await expect(changed.locator('ins + [data-testid="diff-by"]')).toHaveText([
      'Infogat av Utbildningsförvaltningen (Sara Nyberg)',
      'Infogat av Utbildningsförvaltningen (Sara Nyberg)',
    ]);
    await expectNoAxeViolations(maria.page, 'a diff naming who made each change');
  } finally {
    await sara.context.close();
    await maria.context.close();
  }
});

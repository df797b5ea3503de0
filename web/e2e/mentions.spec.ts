/**
 * @mentions against the real server (issue 17): the owner types `@Utb` in the comment
 * form, picks Utbildningsförvaltningen from the autocomplete with the keyboard only, and
 * a member of that organisation finds the mention in their bell; the posted comment
 * marks the mention as text; axe finds nothing on the open list. Following: the thread
 * card's and the document's follow buttons say their state with aria-pressed.
 */
import {
  expect,
  expectNoAxeViolations,
  loggedInPage,
  openCard,
  openDocument,
  ownedDocument,
  selectWords,
  test,
} from './fixtures';

test('an organisation picked from the @-list by keyboard reaches its members’ bells', async ({
  browser,
  request,
}) => {
  const title = `Omnämnanden ${Date.now()}`;
  const id = await ownedDocument(
    request,
    title,
    'Skolan ska vara trygg för alla elever.\n',
    'utbildningsforvaltningen',
  );
  const maria = await loggedInPage(browser, 'maria.holmberg');
  const erik = await loggedInPage(browser, 'erik.sandahl');
  try {
    const page = maria.page;
    await openDocument(page, id);
    await selectWords(page, 1, 'Skolan');
    await page.keyboard.press('Control+Alt+M');
    const compose = page.getByTestId('compose');
    const field = compose.getByRole('combobox', { name: 'Kommentar' });
    await field.focus();
    await page.keyboard.type('Synpunkter från @Utb');
    await expect(field).toHaveAttribute('aria-expanded', 'true');
    const list = compose.getByRole('listbox', { name: 'Personer och organisationer att nämna' });
    const org = list.getByRole('option', { name: /Utbildningsförvaltningen/ });
    await expect(org).toBeVisible();
    await expect(org).toHaveAttribute('aria-selected', 'true');
    const active = await field.getAttribute('aria-activedescendant');
    expect(active).toBe(await org.getAttribute('id'));
    await expectNoAxeViolations(page, 'the open @mention list');
    // Down and up again, then Enter picks; Escape would only close the list.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    await expect(org).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press('Enter');
    await expect(field).toHaveAttribute('aria-expanded', 'false');
    await expect(field).toHaveValue('Synpunkter från @Utbildningsförvaltningen ');
    await page.keyboard.type('behövs.');
    await compose.getByRole('button', { name: 'Skicka kommentar' }).click();
    await expect(compose).toHaveCount(0);

    const card = page.getByTestId('thread').filter({ hasText: 'Synpunkter från' });
    await openCard(card);
    await expect(card.getByTestId('mention')).toHaveText('@Utbildningsförvaltningen');
    // Writing followed the thread.
    await expect(card.getByRole('button', { name: 'Följ tråden' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );
    const followDoc = page.getByRole('button', { name: 'Följ dokumentet' });
    await expect(followDoc).toHaveAttribute('aria-pressed', 'false');
    await followDoc.click();
    await expect(followDoc).toHaveAttribute('aria-pressed', 'true');

    // A member of the organisation finds it in the bell.
    await erik.page.reload();
    const bell = erik.page.getByRole('button', { name: /^Aviseringar, \d+ olästa$/ });
    await expect(bell).not.toHaveAccessibleName('Aviseringar, 0 olästa');
    await bell.click();
    const link = erik.page.locator('#notification-panel').getByRole('link', {
      name: new RegExp(`Maria Holmberg nämnde dig eller din organisation i ${title}`),
    });
    await expect(link).toHaveAttribute('href', new RegExp(`/d/${id}\\?thread=`));
  } finally {
    await maria.context.close();
    await erik.context.close();
  }
});

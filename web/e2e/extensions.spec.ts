/**
 * A later svarsdatum for one organisation (issue 17) against the real server: an
 * invitee asks for it with a reason in the Remiss tab, the owner sees the request and
 * grants a date of her own, and the invitee then sees its new svarsdatum, in its own
 * section and in the invitee table; axe on both panels. And the settings page's e-mail
 * language and daily digest.
 */
import type { Locator, Page } from '@playwright/test';
import {
  apiToken,
  bearer,
  expect,
  expectNoAxeViolations,
  loggedInPage,
  login,
  openDocument,
  ownedDocument,
  test,
} from './fixtures';

const TEXT = 'Första stycket handlar om trygghet i skolan.\n';
const ORG = 'Utbildningsförvaltningen';

async function openRemissTab(page: Page): Promise<Locator> {
  await page.getByRole('tab', { name: 'Remiss' }).click();
  const panel = page.getByTestId('remiss-panel');
  await expect(panel).toBeVisible();
  return panel;
}

test('an invitee asks for a later svarsdatum, the owner grants it and the invitee sees it', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(
    request,
    `Förlängning ${Date.now()}`,
    TEXT,
    'utbildningsforvaltningen',
  );
  const owner = await apiToken(request, 'maria.holmberg');
  const round = await request.put(`/api/documents/${encodeURIComponent(id)}/remiss`, {
    ...bearer(owner),
    data: { phase: 'remiss', deadline: '2099-12-31' },
  });
  expect(round.status()).toBe(200);
  const sara = await loggedInPage(browser, 'sara.nyberg');
  const maria = await loggedInPage(browser, 'maria.holmberg');
  try {
    // Sara asks, with a reason.
    await openDocument(sara.page, id);
    const hers = await openRemissTab(sara.page);
    const section = hers.getByTestId('remiss-extensions');
    await expect(section.getByTestId('own-deadline')).toContainText('2099');
    const ask = section.getByTestId('extension-request');
    await ask.getByLabel('Önskat svarsdatum').fill('2100-01-31');
    await ask.getByLabel('Skäl').fill('Nämnden sammanträder först i januari.');
    await ask.getByRole('button', { name: 'Skicka begäran' }).click();
    await expect(
      hers.getByRole('status').filter({ hasText: 'Er begäran är skickad' }),
    ).toBeVisible();
    await expect(section.getByTestId('own-requests')).toContainText('Väntar på ägarnas beslut.');
    await expect(section.getByTestId('extension-request')).toHaveCount(0);
    await expectNoAxeViolations(sara.page, 'the Remiss tab with a pending request');

    // Maria sees the request and grants a date of her own.
    await openDocument(maria.page, id);
    const panel = await openRemissTab(maria.page);
    const pending = panel
      .getByTestId('pending-requests')
      .getByRole('group', { name: new RegExp(ORG) });
    await expect(pending).toContainText('Nämnden sammanträder först i januari.');
    await pending.getByLabel('Beviljat svarsdatum').fill('2100-02-15');
    await pending.getByRole('button', { name: `Bevilja ${ORG}` }).click();
    await expect(panel.getByText('Inga begäranden väntar på beslut.')).toBeVisible();
    const row = panel.getByTestId('invitees').getByRole('row', { name: new RegExp(ORG) });
    await expect(row.getByTestId('invitee-deadline')).toContainText('2100');
    await expect(row.getByTestId('invitee-deadline')).toContainText('förlängt');
    await expectNoAxeViolations(maria.page, 'the Remiss tab of an owner after a grant');

    // Sara sees her organisation's new svarsdatum.
    await hers.getByRole('button', { name: 'Uppdatera' }).click();
    await expect(section.getByTestId('own-deadline')).toContainText('förlängt till');
    await expect(section.getByTestId('own-deadline')).toContainText('2100');
    await expect(section.getByTestId('own-requests')).toContainText('Beviljad');
    const mine = hers.getByTestId('invitees').getByRole('row', { name: new RegExp(ORG) });
    await expect(mine.getByTestId('invitee-deadline')).toContainText('förlängt');
  } finally {
    await sara.context.close();
    await maria.context.close();
  }
});

test('the settings page keeps my e-mail language and daily digest', async ({ page }) => {
  await login(page, 'ingrid.fors');
  await page.getByRole('navigation').getByRole('link', { name: 'Inställningar' }).click();
  const mail = page.getByTestId('mail-preferences');
  const language = mail.getByRole('group', { name: 'Språk i e-post' });
  const digest = mail.getByRole('group', { name: 'När e-post skickas' });
  await expect(language.getByRole('radio', { name: 'Svenska' })).toBeChecked();
  await expect(digest.getByRole('radio', { name: 'Direkt när något händer' })).toBeChecked();
  await language.getByRole('radio', { name: 'English' }).check();
  await expect(page.getByRole('main').getByRole('status')).toHaveText('Sparat: English.');
  await digest.getByRole('radio', { name: /Samlat i ett brev om dagen/ }).check();
  await expect(page.getByRole('main').getByRole('status')).toContainText('Samlat i ett brev');
  await expectNoAxeViolations(page, 'the settings page with e-mail preferences');
  await page.reload();
  await expect(language.getByRole('radio', { name: 'English' })).toBeChecked();
  await expect(digest.getByRole('radio', { name: /Samlat i ett brev om dagen/ })).toBeChecked();
});

/**
 * The Remiss tab against the real server: the round set by an owner, an invitee's status
 * moving as its people open, comment and answer, the compilation as DOCX, a closed round
 * refusing new threads with a reason, the audit trail verified, read and exported, and
 * axe on the panel.
 */
import { readFile } from 'node:fs/promises';
import type { Locator, Page } from '@playwright/test';
import {
  apiToken,
  bearer,
  editor,
  expect,
  expectNoAxeViolations,
  loggedInPage,
  login,
  openCard,
  openDocument,
  ownedDocument,
  selected,
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

function inviteeStatus(panel: Locator, org: string): Locator {
  return panel
    .getByTestId('invitees')
    .getByRole('row', { name: new RegExp(org) })
    .getByTestId('invitee-status');
}

/** Selects the first words of paragraph `index` (the title is 0) and comments on them. */
async function commentOn(page: Page, index: number, words: string, body: string): Promise<void> {
  await editor(page).focus();
  await page.keyboard.press('Control+Home');
  for (let i = 0; i < index; i += 1) await page.keyboard.press('Control+ArrowDown');
  await page.keyboard.press('Home');
  for (const _ of words.split(' ')) await page.keyboard.press('Shift+Control+ArrowRight');
  await selected(page, words);
  await page.keyboard.press('Control+Alt+M');
  const compose = page.getByTestId('compose');
  await compose.getByLabel('Avstyrker').check();
  await compose.getByLabel('Kommentar', { exact: true }).fill(body);
  await compose.getByRole('button', { name: 'Skicka kommentar' }).click();
  await expect(compose).toHaveCount(0);
}

test('an owner sets the round; an invitee’s status follows what it does; the compilation downloads as DOCX', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(request, `Remiss ${Date.now()}`, TEXT, 'utbildningsforvaltningen');
  const maria = await loggedInPage(browser, 'maria.holmberg');
  const sara = await loggedInPage(browser, 'sara.nyberg');
  try {
    await openDocument(maria.page, id);
    const panel = await openRemissTab(maria.page);

    const round = panel.getByTestId('round-form');
    await round.getByLabel('Diarienummer').fill('KS 2019/1939');
    await round.getByLabel('Fas').selectOption({ label: 'Remiss' });
    await round.getByLabel('Svarsdatum').fill('2099-12-31');
    await round.getByRole('button', { name: 'Spara remissomgången' }).click();
    const facts = panel.getByTestId('round-facts');
    await expect(facts).toContainText('KS 2019/1939');
    await expect(facts).toContainText('Remiss');
    await expect(facts).toContainText('2099');
    await expect(panel.getByTestId('round-openness')).toHaveText('Remissen tar emot synpunkter.');
    await expect(inviteeStatus(panel, 'Utbildningsförvaltningen')).toHaveText('Inbjuden');

    // Sara opens the document: her organisation has opened it.
    await openDocument(sara.page, id);
    await expect(inviteeStatus(panel, 'Utbildningsförvaltningen')).toHaveText('Har öppnat');

    // She comments: commenting.
    await commentOn(sara.page, 1, 'Första stycket', 'Skolan bör inte komma först.');
    await expect(inviteeStatus(panel, 'Utbildningsförvaltningen')).toHaveText('Kommenterar');

    // She gives Utbildningsförvaltningen's statement in the Remiss tab.
    const hers = await openRemissTab(sara.page);
    await expect(hers.getByTestId('round-facts')).toContainText('KS 2019/1939');
    const answer = hers.getByTestId('answer');
    await expect(answer).toContainText('Ni har inte svarat ännu.');
    await answer.getByRole('button', { name: 'Lämna yttrande' }).click();
    await expect(answer.getByLabel('Yttrande (sammanfattning)')).toBeFocused();
    await expect(answer.getByRole('button', { name: 'Lämna yttrande' })).toBeHidden();
    await answer.getByRole('button', { name: 'Skicka yttrandet' }).click();
    await expect(answer.getByLabel('Yttrande (sammanfattning)')).toHaveAttribute(
      'aria-invalid',
      'true',
    );
    await answer
      .getByLabel('Yttrande (sammanfattning)')
      .fill('Utbildningsförvaltningen avstyrker ordningen men tillstyrker programmet i övrigt.');
    await answer.getByRole('button', { name: 'Skicka yttrandet' }).click();
    await expect(answer).toContainText('Ert yttrande är lämnat.');
    await expect(answer.getByTestId('own-answer')).toContainText('Ni lämnade yttrande');
    await expect(inviteeStatus(hers, 'Utbildningsförvaltningen')).toHaveText('Yttrande lämnat');
    await expectNoAxeViolations(sara.page, 'the Remiss tab (commenter, answered)');

    await panel.getByRole('button', { name: 'Uppdatera' }).click();
    await expect(inviteeStatus(panel, 'Utbildningsförvaltningen')).toHaveText('Yttrande lämnat');
    const row = panel
      .getByTestId('invitees')
      .getByRole('row', { name: /Utbildningsförvaltningen/ });
    await row.locator('summary').click();
    await expect(row).toContainText('tillstyrker programmet i övrigt');
    await expectNoAxeViolations(maria.page, 'the Remiss tab (owner)');

    // The compilation as DOCX: a zip holding word/document.xml.
    const [download] = await Promise.all([
      maria.page.waitForEvent('download'),
      panel.getByRole('button', { name: /Remissammanställning som Word/ }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.docx$/);
    const bytes = await readFile(await download.path());
    expect(bytes.subarray(0, 2).toString('latin1')).toBe('PK');
    expect(bytes.includes(Buffer.from('word/document.xml'))).toBe(true);
  } finally {
    await maria.context.close();
    await sara.context.close();
  }
});

test('when the round is closed, Kommentera says why instead of failing', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(request, `Stängd ${Date.now()}`, TEXT, 'utbildningsforvaltningen');
  const sara = await loggedInPage(browser, 'sara.nyberg');
  try {
    await openDocument(sara.page, id);
    await commentOn(sara.page, 2, 'Andra stycket', 'Innan remissen stängdes.');
    const owner = await apiToken(request, 'maria.holmberg');
    const closed = await request.put(`/api/documents/${encodeURIComponent(id)}/remiss`, {
      ...bearer(owner),
      data: { phase: 'avslutad' },
    });
    expect(closed.ok()).toBe(true);

    await openDocument(sara.page, id);
    const margin = sara.page.getByTestId('comments-margin');
    await expect(margin).toContainText('Remissen tar inte emot nya synpunkter');
    // Her open thread says why she cannot reply instead of offering a form.
    const card = margin.getByTestId('thread').filter({ hasText: 'Innan remissen stängdes.' });
    await openCard(card);
    await expect(card).toContainText('Bara ägaren kan svara i tråden nu.');
    await expect(card.getByLabel('Ditt svar')).toHaveCount(0);

    await editor(sara.page).focus();
    await sara.page.keyboard.press('Control+Home');
    await sara.page.keyboard.press('Control+ArrowDown');
    await sara.page.keyboard.press('Shift+Control+ArrowRight');
    await selected(sara.page, 'Första');
    await sara.page.keyboard.press('Control+Alt+M');
    await expect(margin.getByRole('status').first()).toContainText(
      'Remissen tar inte emot nya synpunkter',
    );
    await expect(sara.page.getByTestId('compose')).toHaveCount(0);
    const panel = await openRemissTab(sara.page);
    await expect(panel.getByTestId('round-openness')).toHaveText(
      'Remissen är avslutad: nya synpunkter tas inte emot.',
    );
  } finally {
    await sara.context.close();
  }
});

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

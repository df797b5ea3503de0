/**
 * The Remiss tab against the real server: the round set by an owner, an invitee's status
 * moving as its people open, comment and answer, the compilation as DOCX and PDF/A (its
 * first page rendered with pdftoppm and attached for a reviewer), a named version
 * and the diff of a change made after it, webhooks with their secret and deliveries, a
 * closed round refusing new threads with a reason, the audit trail verified, read and
 * exported, and axe on the panel.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
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
  selectParagraphStart,
  test,
} from './fixtures';

const run = promisify(execFile);

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
  await selectParagraphStart(page, index, words);
  await page.keyboard.press('Control+Alt+M');
  const compose = page.getByTestId('compose');
  await compose.getByLabel('Avstyrker').check();
  await compose.getByLabel('Kommentar', { exact: true }).fill(body);
  await compose.getByRole('button', { name: 'Skicka kommentar' }).click();
  await expect(compose).toHaveCount(0);
}

test('an owner sets the round; an invitee’s status follows what it does; the compilation downloads as DOCX and PDF', async ({
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

    // And as PDF/A; its first page, rendered by poppler's pdftoppm, is attached to the
    // report for a reviewer to look at.
    const [pdf] = await Promise.all([
      maria.page.waitForEvent('download'),
      panel.getByRole('button', { name: /Remissammanställning som PDF/ }).click(),
    ]);
    expect(pdf.suggestedFilename()).toMatch(/\.pdf$/);
    const pdfPath = await pdf.path();
    expect((await readFile(pdfPath)).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const stem = test.info().outputPath('remissammanstallning');
    await run('pdftoppm', ['-png', '-r', '50', '-f', '1', '-l', '1', '-singlefile', pdfPath, stem]);
    await test.info().attach('remissammanställning, sidan 1', {
      path: `${stem}.png`,
      contentType: 'image/png',
    });
  } finally {
    await maria.context.close();
    await sara.context.close();
  }
});

test('an owner saves a version; a thread names it; the diff shows a change made after it', async ({
  page,
  request,
}) => {
  const id = await ownedDocument(request, `Jämförelse ${Date.now()}`, TEXT);
  await login(page, 'maria.holmberg');
  await openDocument(page, id);
  let panel = await openRemissTab(page);
  // No version yet: nothing to compare.
  await expect(panel.getByTestId('versions-none')).toBeVisible();
  await expect(panel.getByTestId('compare')).toBeHidden();
  const save = panel.getByTestId('save-version');
  await save.getByLabel('Namn på ny version').fill('Före ändringen');
  await save.getByRole('button', { name: 'Spara version' }).click();
  await expect(panel.getByTestId('versions')).toContainText('Före ändringen');
  await expect(panel.getByTestId('compare')).toBeVisible();

  // A thread opened now names the version.
  await page.getByRole('tab', { name: 'Text och kommentarer' }).click();
  await commentOn(page, 2, 'Andra stycket', 'Om perioden.');
  const card = page.getByTestId('thread').filter({ hasText: 'Om perioden.' });
  await openCard(card);
  await expect(card.getByTestId('thread-version')).toHaveText('Öppnad på versionen Före ändringen');

  // Change a word in the first paragraph and add a paragraph.
  await editor(page).getByText('Andra stycket gäller').click();
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('Ett nytt stycke om samverkan.');
  await expect(editor(page)).toContainText('Ett nytt stycke om samverkan.');
  await editor(page).getByText('Första stycket').click();
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+Control+ArrowRight');
  await selected(page, 'Första');
  await page.keyboard.type('Det första');
  await expect(editor(page)).toContainText('Det första stycket handlar');

  panel = await openRemissTab(page);
  await panel
    .getByRole('button', { name: 'Jämför Före ändringen med den nuvarande texten' })
    .click();
  const view = panel.getByTestId('version-view');
  await expect(view.getByRole('heading', { name: /Skillnader från Före ändringen/ })).toBeFocused();
  await expect(view.getByTestId('diff-summary')).toContainText('1 ändrade, 1 tillagda');
  const added = view.locator('[data-change="added"]');
  await expect(added).toContainText('Tillagt stycke');
  await expect(added.locator('ins')).toContainText('Ett nytt stycke om samverkan.');
  const changed = view.locator('[data-change="changed"]');
  await expect(changed).toContainText('Ändrat stycke');
  await expect(changed.locator('del')).toContainText('Första');
  await expect(changed.locator('ins')).toContainText('Det första');
  await expectNoAxeViolations(page, 'the Remiss tab with a diff');
});

test('an owner registers a webhook, sees its secret once, and its deliveries', async ({
  browser,
  request,
}) => {
  const received: string[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push(`${req.headers['x-forankra-event']} ${body}`);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  const port = (receiver.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/forankra`;
  const id = await ownedDocument(
    request,
    `Webhook ${Date.now()}`,
    TEXT,
    'utbildningsforvaltningen',
  );
  const maria = await loggedInPage(browser, 'maria.holmberg');
  const sara = await loggedInPage(browser, 'sara.nyberg');
  try {
    await openDocument(maria.page, id);
    const hooks = (await openRemissTab(maria.page)).getByTestId('remiss-webhooks');
    const form = hooks.getByTestId('webhook-form');
    await form.getByLabel('Adress (https://…)').fill('inte en adress');
    await form.getByRole('button', { name: 'Registrera webhook' }).click();
    await expect(hooks).toContainText('Ange en fullständig adress');
    await form.getByLabel('Adress (https://…)').fill(url);
    await form.getByLabel('En kommentar skrivs').uncheck();
    await form.getByRole('button', { name: 'Registrera webhook' }).click();
    await expect(hooks.getByTestId('webhook-secret')).toContainText(url);
    const secret = (await hooks.getByTestId('webhook-secret').locator('code').textContent()) ?? '';
    expect(secret.length).toBeGreaterThan(10);
    const row = hooks.getByTestId('webhooks').getByRole('row', { name: new RegExp(url) });
    await expect(row).toContainText('En tråd öppnas');
    await expect(row).not.toContainText('En kommentar skrivs');

    // A thread opened by Sara is delivered, and listed as delivered.
    await openDocument(sara.page, id);
    await commentOn(sara.page, 1, 'Första stycket', 'Till webhooken.');
    await expect.poll(() => received.length).toBeGreaterThan(0);
    expect(received[0]).toContain('thread.opened');
    await row.getByRole('button', { name: `Visa leveranserna till ${url}` }).click();
    const deliveries = hooks.getByTestId('deliveries');
    await expect(deliveries.getByRole('heading', { name: `Leveranser till ${url}` })).toBeFocused();
    await expect(deliveries.getByRole('row', { name: /En tråd öppnas/ })).toContainText(
      'Levererad',
    );
    await expectNoAxeViolations(maria.page, 'the Remiss tab with webhooks');

    // The secret is not shown again.
    await maria.page.reload();
    const again = (await openRemissTab(maria.page)).getByTestId('remiss-webhooks');
    await expect(again.getByTestId('webhooks')).toContainText(url);
    await expect(again.getByTestId('webhook-secret')).toHaveCount(0);
    await expect(again).not.toContainText(secret);

    maria.page.once('dialog', (dialog) => void dialog.accept());
    await again.getByRole('button', { name: `Ta bort webhooken till ${url}` }).click();
    await expect(again).toContainText('Inga webhookar är registrerade.');
  } finally {
    await maria.context.close();
    await sara.context.close();
    receiver.close();
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

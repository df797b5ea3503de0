import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIRequestContext, Page } from '@playwright/test';
import {
  DEMO_DOC_ID,
  editor,
  editorSelection,
  expect,
  loggedInPage,
  login,
  openCard,
  openDocument,
  ownedDocument,
  test,
} from './fixtures';

/** Where screenshots kept as CI artefacts go (git-ignored): web/artifacts/. */
const ARTIFACTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');

/** A document of its own (owned by Stadsledningskontoret), Utbildningsförvaltningen commenting. */
function commentedDocument(request: APIRequestContext, title: string): Promise<string> {
  return ownedDocument(
    request,
    title,
    'Första stycket handlar om trygghet i skolan.\n\nAndra stycket gäller perioden 2020–2023.\n',
    'utbildningsforvaltningen',
  );
}

/** Selects the first `words` words of paragraph `index` (0-based) with the keyboard only. */
async function selectWordsByKeyboard(page: Page, index: number, words: number): Promise<string> {
  const text = editor(page);
  await text.focus();
  await page.keyboard.press('Control+Home');
  for (let i = 0; i <= index; i += 1) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Home');
  for (let i = 0; i < words; i += 1) await page.keyboard.press('Shift+Control+ArrowRight');
  const chosen = (await page.evaluate(() => window.getSelection()?.toString() ?? '')).trim();
  await expect.poll(() => editorSelection(page)).toBe(chosen);
  return chosen;
}

function thread(page: Page, text: string) {
  return page.getByTestId('thread').filter({ hasText: text });
}

test('the demo document’s threads are listed in the margin with their quotes and highlights', async ({
  page,
}) => {
  await login(page, 'maria.holmberg');
  await openDocument(page, DEMO_DOC_ID);
  const margin = page.getByTestId('comments-margin');
  await expect(margin.getByTestId('thread')).toHaveCount(10);
  await expect(
    thread(page, 'Delarna kan läsas var för sig').getByTestId('thread-quote'),
  ).toContainText('Delarna kan läsas var för sig, och vissa resonemang återkommer');
  // Open threads are highlighted in the text with decorations.
  await expect(editor(page).locator('.thread-highlight').first()).toBeVisible();
  // A change proposal is shown as a before/after once its card is open.
  const proposing = margin.getByTestId('thread').filter({ has: page.getByTestId('proposal') });
  await openCard(proposing.first());
  await expect(proposing.first().getByTestId('proposal').locator('del')).toBeVisible();
  await expect(proposing.first().getByTestId('proposal').locator('ins')).toBeVisible();
  await proposing.first().getByTestId('thread-toggle').click();
  await expect(proposing.first().getByTestId('proposal').locator('del')).toBeHidden();

  // Filters: only Socialförvaltningen's threads.
  const filters = page.getByTestId('comments-bar');
  await filters
    .getByLabel('Organisation', { exact: true })
    .selectOption({ label: 'Socialförvaltningen' });
  await expect(margin.getByTestId('thread')).toHaveCount(2);
  await filters.getByLabel('Status', { exact: true }).selectOption({ label: 'Öppen' });
  await expect(margin.getByTestId('thread')).toHaveCount(1);

  // Cards are one line until opened; "Show in text" selects the thread's text; Escape
  // returns to the thread.
  const card = margin.getByTestId('thread').first();
  await expect(card.getByRole('button', { name: /Visa texten/ })).toBeHidden();
  await openCard(card);
  await card.getByRole('button', { name: /Visa texten/ }).click();
  await expect(editor(page)).toBeFocused();
  await expect(editor(page).locator('.thread-highlight--active')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(card.getByRole('button', { name: /Visa texten/ })).toBeFocused();
});

test('a commenter opens a thread by keyboard; the owner sees it live, replies and resolves it', async ({
  browser,
  request,
}) => {
  const id = await commentedDocument(request, `Trådar ${Date.now()}`);
  const sara = await loggedInPage(browser, 'sara.nyberg');
  const maria = await loggedInPage(browser, 'maria.holmberg');
  try {
    await openDocument(sara.page, id);
    await openDocument(maria.page, id);
    await expect(editor(sara.page)).toHaveAttribute('contenteditable', 'true');

    const selected = await selectWordsByKeyboard(sara.page, 0, 2);
    expect(selected).toBe('Första stycket');
    await sara.page.keyboard.press('Control+Alt+M');
    const compose = sara.page.getByTestId('compose');
    await expect(compose.locator('blockquote')).toHaveText('Första stycket');
    await compose.getByLabel('Tillstyrker').check();
    await compose.getByLabel('Kommentar', { exact: true }).fill('Bra att skolan nämns först.');
    await compose.getByRole('button', { name: 'Skicka kommentar' }).click();
    await expect(compose).toHaveCount(0);
    const saraCard = thread(sara.page, 'Första stycket');
    await expect(saraCard).toContainText('Tillstyrker');
    await expect(saraCard).toBeFocused();

    // The owner sees it without reloading, announced in the live region.
    const card = thread(maria.page, 'Första stycket');
    await expect(card).toContainText('Bra att skolan nämns först.');
    await expect(card.getByTestId('thread-quote')).toHaveText('Första stycket');
    await expect(card).toContainText('Tillstyrker');
    await expect(maria.page.getByTestId('live-region')).toContainText(
      'Ny kommentar från Utbildningsförvaltningen',
    );
    await expect(editor(maria.page).locator('.thread-highlight')).toHaveText('Första stycket');
    await openCard(card);

    // The commenter edits her own comment; the owner sees the new text live.
    await saraCard.getByRole('button', { name: 'Redigera' }).click();
    await saraCard.getByLabel('Redigera din kommentar').fill('Bra att skolan nämns först!');
    await saraCard.getByRole('button', { name: 'Spara' }).click();
    await expect(card).toContainText('Bra att skolan nämns först!');
    await expect(card.getByRole('button', { name: 'Redigera' })).toHaveCount(0);

    await card.getByLabel('Ditt svar').fill('Tack, vi behåller ordningen.');
    await card.getByRole('button', { name: 'Skicka svar' }).click();
    await expect(saraCard).toContainText('Tack, vi behåller ordningen.');
    await expect(sara.page.getByTestId('live-region')).toContainText(
      'Ny kommentar från Stadsledningskontoret',
    );

    await card.getByLabel('Utfall').selectOption({ label: 'Delvis beaktad' });
    await card.getByLabel('Motivering').fill('Ordningen behålls men texten förtydligas.');
    await card.getByRole('button', { name: 'Avsluta tråden' }).click();
    await expect(card.getByTestId('resolution')).toContainText('Avslutad: Delvis beaktad');

    // The commenter sees the resolution live.
    await expect(saraCard.getByTestId('resolution')).toContainText('Avslutad: Delvis beaktad');
    await expect(saraCard.getByTestId('resolution')).toContainText(
      'Ordningen behålls men texten förtydligas.',
    );
    await expect(saraCard).toHaveAttribute('data-status', 'resolved');
    await expect(editor(sara.page).locator('.thread-highlight')).toHaveCount(0);
  } finally {
    await sara.context.close();
    await maria.context.close();
  }
});

test('a change proposal accepted by the owner changes the text in both editors', async ({
  browser,
  request,
}) => {
  const id = await commentedDocument(request, `Förslag ${Date.now()}`);
  const sara = await loggedInPage(browser, 'sara.nyberg');
  const maria = await loggedInPage(browser, 'maria.holmberg');
  try {
    await openDocument(sara.page, id);
    await openDocument(maria.page, id);

    expect(await selectWordsByKeyboard(sara.page, 1, 2)).toBe('Andra stycket');
    await sara.page.getByRole('button', { name: 'Kommentera' }).click();
    const compose = sara.page.getByTestId('compose');
    await compose.getByLabel('Ändringsförslag').check();
    await compose.getByLabel('Kommentar', { exact: true }).fill('Tydligare rubrik.');
    await compose.getByLabel('Föreslagen ny text').fill('Det andra stycket');
    await compose.getByRole('button', { name: 'Skicka kommentar' }).click();

    const card = thread(maria.page, 'Tydligare rubrik.');
    await openCard(card);
    await expect(card.getByTestId('proposal').locator('del')).toContainText('Andra stycket');
    await expect(card.getByTestId('proposal').locator('ins')).toContainText('Det andra stycket');
    await card.getByLabel('Motivering').fill('Godtas.');
    await card.getByRole('button', { name: 'Godta förslaget' }).click();

    for (const page of [maria.page, sara.page]) {
      await expect(editor(page)).toContainText('Det andra stycket gäller perioden 2020–2023.');
      await expect(editor(page)).not.toContainText('Andra stycket gäller');
    }
    await expect(thread(sara.page, 'Tydligare rubrik.').getByTestId('resolution')).toContainText(
      'Beaktad',
    );
  } finally {
    await sara.context.close();
    await maria.context.close();
  }
});

test('a screenshot of the document view with threads is saved as an artefact', async ({ page }) => {
  await login(page, 'maria.holmberg');
  await openDocument(page, DEMO_DOC_ID);
  const margin = page.getByTestId('comments-margin');
  await expect(margin.getByTestId('thread')).toHaveCount(10);

  // Make one open thread (with a change proposal) active: its card is outlined and its
  // text highlighted as active.
  const card = thread(page, 'Målavsnittet säger inte vem');
  await expect(card).toHaveAttribute('data-status', 'open');
  await openCard(card);
  await card.getByRole('button', { name: /Visa texten/ }).click();
  await expect(card).toHaveClass(/thread--active/);
  const active = editor(page).locator('.thread-highlight--active');
  await expect(active).toBeVisible();
  // Escape returns focus to the card; clearing the page's selection lets the picture show
  // the active highlight rather than the selected text over it.
  await page.keyboard.press('Escape');
  await expect(card.getByRole('button', { name: /Visa texten/ })).toBeFocused();
  await page.evaluate(() => window.getSelection()?.removeAllRanges());
  await expect(card).toHaveClass(/thread--active/);

  // The highlighted text in the middle of the window, the margin beside it.
  await active.evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await expect(margin).toBeInViewport();
  await expect(active).toBeInViewport();
  await expect(card).toBeInViewport();

  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, 'document-view-threads.png');
  const png = await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  expect(png.byteLength).toBeGreaterThan(10_000);
});

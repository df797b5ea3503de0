/**
 * A change proposal whose text was edited before the owner decided (issue 14, finding 1):
 * a commenter proposes new wording for a phrase, an editor types over the end of that
 * phrase, and the owner accepts. The owner is shown the original, current and proposed
 * wordings before anything is replaced, and the document ends with exactly the proposal
 * in place of the current text, no fragment of the old one.
 *
 * Selections and typing go through the editor's own commands (as in margin.spec.ts): a
 * typed character replaces the selection the way a key press does, without the timing of
 * key-driven selection on a loaded machine.
 */
import type { Page } from '@playwright/test';
import {
  apiToken,
  bearer,
  editor,
  expect,
  expectNoAxeViolations,
  loggedInPage,
  openCard,
  openDocument,
  ownedDocument,
  selected,
  selectWords,
  test,
} from './fixtures';

const BEFORE = 'Stadsdelsförvaltningarna tar fram ';
const PHRASE = 'metodstöd för kartläggning, orsaksanalys och uppföljning';
const AFTER = ', samt följer upp arbetet varje år.';
const TYPED_OVER = 'orsaksanalys och uppföljning';
const TYPED = 'orsaksanalys, riskbedömning och uppföljning';
const CURRENT = 'metodstöd för kartläggning, orsaksanalys, riskbedömning och uppföljning';
const PROPOSAL = 'metodstöd för kartläggning, riskanalys och uppföljning';

/**
 * Selects `text` in a read-only editor (a commenter's) the way a mouse would: as the DOM
 * selection, which ProseMirror reads into its state; `selected` waits until it has.
 */
async function selectAsReader(page: Page, text: string): Promise<void> {
  await editor(page).focus();
  await page.evaluate((text) => {
    const root = document.getElementById('document-editor');
    if (!root) throw new Error('no editor');
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.textContent?.indexOf(text) ?? -1;
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + text.length);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
      return;
    }
    throw new Error(`"${text}" is not in the editor`);
  }, text);
  await selected(page, text);
}

/** The text of block `index` in the editor's document (without other users' carets). */
function blockText(page: Page, index: number): Promise<string> {
  return page.evaluate((index) => {
    const dom = document.getElementById('document-editor') as
      | (Element & {
          editor?: { state: { doc: { child(i: number): { textContent: string } } } };
        })
      | null;
    return dom?.editor?.state.doc.child(index).textContent ?? '';
  }, index);
}

/** Waits until the paragraph reads exactly `text` in `page`'s editor. */
async function expectParagraph(page: Page, text: string): Promise<void> {
  await expect.poll(() => blockText(page, 1)).toBe(text);
}

/** Inserts `text` at the selection through the editor's own command. */
async function insertText(page: Page, text: string): Promise<void> {
  await page.evaluate((text) => {
    const dom = document.getElementById('document-editor') as
      | (Element & { editor?: { commands: { insertContent(text: string): boolean } } })
      | null;
    const commands = dom?.editor?.commands;
    if (!commands) throw new Error('no editor');
    commands.insertContent(text);
  }, text);
}

/**
 * Types `text` over the selection as a key press after another does: the first character
 * replaces the selection, the rest goes in after it (one step, as the sync would send a
 * burst of key presses).
 */
async function typeOver(page: Page, text: string): Promise<void> {
  await insertText(page, text.slice(0, 1));
  await insertText(page, text.slice(1));
}

test('accepting a proposal after its text was typed over shows the owner the three wordings', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(
    request,
    `Förslag på ändrad text ${Date.now()}`,
    `${BEFORE}${PHRASE}${AFTER}\n`,
    'utbildningsforvaltningen',
  );
  const owner = await apiToken(request, 'maria.holmberg');
  const invited = await request.put(
    `/api/documents/${encodeURIComponent(id)}/members/socialforvaltningen`,
    { ...bearer(owner), data: { role: 'editor' } },
  );
  expect(invited.ok()).toBe(true);

  const sara = await loggedInPage(browser, 'sara.nyberg');
  const helena = await loggedInPage(browser, 'helena.strand');
  const maria = await loggedInPage(browser, 'maria.holmberg');
  try {
    // The commenter proposes new wording for the phrase.
    await openDocument(sara.page, id);
    await selectAsReader(sara.page, PHRASE);
    await sara.page.getByRole('button', { name: 'Kommentera' }).click();
    const compose = sara.page.getByTestId('compose');
    await compose.getByLabel('Ändringsförslag').check();
    await compose.getByLabel('Kommentar', { exact: true }).fill('Riskanalys är det gängse ordet.');
    await compose.getByLabel('Föreslagen ny text').fill(PROPOSAL);
    await compose.getByRole('button', { name: 'Skicka kommentar' }).click();
    await expect(compose).toHaveCount(0);

    // The editor types new words over the end of the phrase.
    await openDocument(helena.page, id);
    await selectWords(helena.page, 1, TYPED_OVER);
    await typeOver(helena.page, TYPED);
    await expectParagraph(sara.page, `${BEFORE}${CURRENT}${AFTER}`);

    // The owner's card shows the original wording beside the current one, labelled.
    await openDocument(maria.page, id);
    await expectParagraph(maria.page, `${BEFORE}${CURRENT}${AFTER}`);
    const card = maria.page
      .getByTestId('thread')
      .filter({ hasText: 'Riskanalys är det gängse ordet.' });
    await openCard(card);
    const wordings = card.getByTestId('thread-wordings');
    await expect(wordings.getByText('Ursprunglig lydelse')).toBeVisible();
    await expect(wordings.getByTestId('wording-original')).toHaveText(PHRASE);
    await expect(wordings.getByText('Nuvarande lydelse')).toBeVisible();
    await expect(wordings.getByTestId('wording-current')).toHaveText(CURRENT);

    // Accepting asks first: the three wordings side by side, focus inside the dialog.
    await card.getByLabel('Motivering').fill('Vi tar förslaget.');
    const accept = card.getByRole('button', { name: 'Godta förslaget' });
    await accept.click();
    const dialog = maria.page.getByRole('dialog', {
      name: 'Texten har ändrats sedan förslaget lämnades',
    });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByTestId('wording-original')).toHaveText(PHRASE);
    await expect(dialog.getByTestId('wording-current')).toHaveText(CURRENT);
    await expect(dialog.getByTestId('wording-proposed')).toHaveText(PROPOSAL);
    await expect(dialog.getByRole('heading', { name: 'Ursprunglig lydelse' })).toBeVisible();
    await expect(dialog.getByRole('heading', { name: 'Nuvarande lydelse' })).toBeVisible();
    await expect(dialog.getByRole('heading', { name: 'Föreslagen lydelse' })).toBeVisible();
    await expect(dialog.getByRole('button', { name: 'Avbryt' })).toBeFocused();
    await expectNoAxeViolations(maria.page, 'the dialog comparing the wordings');

    // Escape cancels: nothing changes, focus returns to the button.
    await maria.page.keyboard.press('Escape');
    await expect(dialog).toHaveCount(0);
    await expect(accept).toBeFocused();
    await expectParagraph(maria.page, `${BEFORE}${CURRENT}${AFTER}`);

    // Asked again, the owner accepts anyway: exactly the proposal replaces the current text.
    await accept.click();
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Godta ändå' }).click();
    await expect(dialog).toHaveCount(0);
    for (const page of [maria.page, helena.page, sara.page]) {
      // Exactly: no "…uppföljningrsaksanalys, riskbedömning och uppföljning" left over.
      await expectParagraph(page, `${BEFORE}${PROPOSAL}${AFTER}`);
    }
    await expect(card.getByTestId('resolution')).toContainText('Beaktad');
  } finally {
    await maria.context.close();
    await helena.context.close();
    await sara.context.close();
  }
});

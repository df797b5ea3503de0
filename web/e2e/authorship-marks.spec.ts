/**
 * "Visa vem som skrivit" marks the text itself (issue 16): two organisations write in
 * the owners' draft from their own browsers; with the toggle on, the owner sees each
 * one's text underlined with its organisation's name (a label, a title, and a status
 * line that follows the pointer and the caret), text typed live after toggling is
 * marked too, and toggling off removes every mark.
 */
import type { Page } from '@playwright/test';
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

const OWNERS = 'stadsledningskontoret';
const SCHOOLS = 'utbildningsforvaltningen';

/** All the text marked as `org`'s, in document order (a run may span several elements). */
function markedAs(page: Page, org: string): Promise<string> {
  return editor(page)
    .locator(`.author-mark[data-author-org="${org}"]`)
    .allTextContents()
    .then((texts) => texts.join(''));
}

/**
 * The text of the caret's paragraph before and after the caret, in the editor's own state. The
 * editor reads a keyboard move from the page on its own schedule (and puts its caret
 * back 20 ms after the text gains focus), so a test moving the caret checks it arrived.
 */
function aroundCaret(page: Page): Promise<[string, string]> {
  return page.evaluate(() => {
    const dom = document.getElementById('document-editor') as
      | (Element & {
          editor?: {
            state: {
              selection: { $head: { parent: { textContent: string }; parentOffset: number } };
            };
          };
        })
      | null;
    const head = dom?.editor?.state.selection.$head;
    if (!head) return ['', ''];
    const text = head.parent.textContent;
    return [text.slice(0, head.parentOffset), text.slice(head.parentOffset)];
  });
}

test('the owner sees in the text which organisation wrote it', async ({ browser, request }) => {
  const owner = await apiToken(request, 'maria.holmberg');
  const title = `Märkt text ${Date.now()}`;
  const created = await request.post('/api/documents', {
    ...bearer(owner),
    data: { title, markdown: `# ${title}\n\nSkolan är viktig.` },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const invited = await request.put(`/api/documents/${encodeURIComponent(id)}/members/${SCHOOLS}`, {
    ...bearer(owner),
    data: { role: 'editor' },
  });
  expect(invited.ok()).toBe(true);

  const maria = await loggedInPage(browser, 'maria.holmberg');
  const sara = await loggedInPage(browser, 'sara.nyberg');
  try {
    // Maria adds a sentence to the first paragraph, Sara writes a paragraph of her own.
    await openDocument(maria.page, id);
    const mariaText = editor(maria.page);
    await mariaText.locator('p').first().click();
    await expect(async () => {
      await maria.page.keyboard.press('End');
      expect(await aroundCaret(maria.page)).toEqual(['Skolan är viktig.', '']);
    }).toPass();
    await maria.page.keyboard.type(' Stadsledningen håller med.');
    await openDocument(sara.page, id);
    const saraText = editor(sara.page);
    await expect(saraText.locator('p').first()).toContainText('Stadsledningen håller med.');
    await saraText.locator('p').first().click();
    await expect(async () => {
      await sara.page.keyboard.press('Control+End');
      expect(await aroundCaret(sara.page)).toEqual([
        'Skolan är viktig. Stadsledningen håller med.',
        '',
      ]);
    }).toPass();
    await sara.page.keyboard.press('Enter');
    await sara.page.keyboard.type('Förskolan behöver fler lärare.');
    await expect(mariaText).toContainText('Förskolan behöver fler lärare.');

    const toggle = maria.page.getByRole('button', { name: 'Visa vem som skrivit' });
    await toggle.click();
    const schools = mariaText.locator(`.author-mark[data-author-org="${SCHOOLS}"]`);
    const owners = mariaText.locator(`.author-mark[data-author-org="${OWNERS}"]`);
    await expect.poll(() => markedAs(maria.page, SCHOOLS)).toBe('Förskolan behöver fler lärare.');
    await expect
      .poll(() => markedAs(maria.page, OWNERS))
      .toBe(`${title}Skolan är viktig. Stadsledningen håller med.`);
    await expect(schools.first()).toHaveAttribute('title', 'Skrivet av Utbildningsförvaltningen');
    await expect(owners.first()).toHaveAttribute('title', 'Skrivet av Stadsledningskontoret');
    // Not colour alone: each organisation's name stands where its text starts, once per
    // paragraph here (the title, the first paragraph, Sara's paragraph).
    const labels = mariaText.locator('.author-start');
    await expect(labels).toHaveCount(3);
    await expect(labels.nth(2)).toHaveAttribute('data-author-name', 'Utbildningsförvaltningen');
    await expect(labels.nth(1)).toHaveAttribute('data-author-name', 'Stadsledningskontoret');
    const shown = await labels.nth(2).evaluate((el) => getComputedStyle(el, '::before').content);
    expect(shown).toContain('Utbildningsförvaltningen');
    // Different underline styles, not only different colours.
    const style = (mark: typeof schools) =>
      mark.first().evaluate((el) => getComputedStyle(el).textDecorationStyle);
    expect(await style(schools)).not.toBe(await style(owners));
    // The text itself is unchanged by the marks.
    await expect(mariaText.locator('p').nth(1)).toContainText('Förskolan behöver fler lärare.');

    // The pointer over Sara's text names her organisation in the status line.
    const status = maria.page.getByTestId('author-status').getByRole('status');
    await schools.last().hover();
    await expect(status).toHaveText('Skrivet av Utbildningsförvaltningen');
    await maria.page.mouse.move(1, 1);

    // So does the caret, moved by keyboard: into Maria's text, then into Sara's.
    await mariaText.focus();
    const endOfFirstParagraph = async () => {
      for (const key of ['Control+Home', 'ArrowDown', 'End']) await maria.page.keyboard.press(key);
      const [before, after] = await aroundCaret(maria.page);
      expect(before).toMatch(/^Skolan är viktig\. Stadsledningen håller med\./);
      expect(after).toBe('');
      // Once in three local runs the line still named the run the pointer had left;
      // moving the caret again put it right (not yet explained).
      await expect(status).toHaveText('Skrivet av Stadsledningskontoret', { timeout: 2000 });
    };
    await expect(endOfFirstParagraph).toPass();
    await expect(async () => {
      await maria.page.keyboard.press('Control+End');
      expect(await aroundCaret(maria.page)).toEqual(['Förskolan behöver fler lärare.', '']);
    }).toPass();
    await expect(status).toHaveText('Skrivet av Utbildningsförvaltningen');

    // Text Sara types now is marked as hers as it arrives.
    await sara.page.keyboard.type(' Och fritids.');
    await expect
      .poll(() => markedAs(maria.page, SCHOOLS))
      .toBe('Förskolan behöver fler lärare. Och fritids.');
    // And what Maria types is marked as her organisation's.
    await expect(endOfFirstParagraph).toPass();
    await maria.page.keyboard.type(' Beslut i maj.');
    await expect
      .poll(() => markedAs(maria.page, OWNERS))
      .toBe(`${title}Skolan är viktig. Stadsledningen håller med. Beslut i maj.`);
    await expect(status).toHaveText('Skrivet av Stadsledningskontoret');

    // Suggesting mode draws beside the marks: the typed suggestion shows, the text and
    // its marks stay as they were.
    const mode = maria.page.getByRole('button', { name: 'Föreslå ändringar' });
    await mode.click();
    await expect(mode).toHaveAttribute('aria-pressed', 'true');
    await mariaText.focus();
    await expect(endOfFirstParagraph).toPass();
    await maria.page.keyboard.type(' Förslag');
    await expect(mariaText.locator('ins.suggestion-ins', { hasText: 'Förslag' })).toBeVisible();
    await expect
      .poll(() => markedAs(maria.page, OWNERS))
      .toBe(`${title}Skolan är viktig. Stadsledningen håller med. Beslut i maj.`);
    await expect(mariaText.locator('.author-start')).toHaveCount(3);

    await expectNoAxeViolations(maria.page, 'the text marked by organisation');
    await mode.click();
    await expect(mode).toHaveAttribute('aria-pressed', 'false');

    // Off again: no marks, no labels, no status line, the text as it was.
    await toggle.click();
    await expect(mariaText.locator('.author-mark')).toHaveCount(0);
    await expect(mariaText.locator('.author-start')).toHaveCount(0);
    await expect(maria.page.getByTestId('author-status')).toBeHidden();
    await expect(mariaText.locator('p').first()).toContainText(
      'Skolan är viktig. Stadsledningen håller med. Beslut i maj.',
    );
  } finally {
    await sara.context.close();
    await maria.context.close();
  }
});

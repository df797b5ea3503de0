/**
 * Suggesting mode (issue 16): a commenter types in the text and their typing becomes
 * suggestions, never changes; the owner sees them live, accepts one, rejects one,
 * accepts the rest of that organisation's at once, and a suggestion made conflicting by
 * the owner's own edit is applied only after the owner has seen what changed.
 *
 * The commenter really types (Playwright key presses into the editor): that is what the
 * mode intercepts. The caret and selections are set through the editor's commands, as in
 * proposal.spec.ts.
 */
import type { Locator, Page } from '@playwright/test';
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
  selectWords,
  test,
} from './fixtures';

const PARAGRAPH = 'Skolorna erbjuder läxhjälp varje vecka till alla elever i grundskolan.';

/** The text of block `index` in the editor's document. */
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

async function expectParagraph(page: Page, text: string): Promise<void> {
  await expect.poll(() => blockText(page, 1)).toBe(text);
}

/** Puts the caret right after `word` in the paragraph (block 1), with the editor focused. */
async function caretAfter(page: Page, word: string): Promise<void> {
  await page.evaluate((word) => {
    type Node = { isText: boolean; text?: string; nodeSize: number };
    const dom = document.getElementById('document-editor') as
      | (Element & {
          editor?: {
            state: {
              doc: {
                child(i: number): Node & { descendants(f: (n: Node, pos: number) => void): void };
              };
            };
            view: { focus(): void };
            commands: { setTextSelection(at: number): boolean; scrollIntoView(): boolean };
          };
        })
      | null;
    const editor = dom?.editor;
    if (!editor) throw new Error('no editor');
    const { doc } = editor.state;
    const start = doc.child(0).nodeSize;
    let at = -1;
    doc.child(1).descendants((node, pos) => {
      const i = node.isText && at < 0 ? (node.text ?? '').indexOf(word) : -1;
      if (i >= 0) at = start + 1 + pos + i + word.length;
    });
    if (at < 0) throw new Error(`"${word}" is not in the paragraph`);
    editor.view.focus();
    editor.commands.setTextSelection(at);
    editor.commands.scrollIntoView();
  }, word);
  // ProseMirror's own focus is synchronous. Tiptap's `focus` command lands on a later
  // animation frame: a key pressed before it went to whatever had focus (a space on the
  // mode button toggled the mode back), or had its caret move undone by that frame.
  await expect(editor(page)).toBeFocused();
}

/** The sent (not pending) suggestion mark with this text, as a page shows it. */
function insertion(page: Page, text: string): Locator {
  return page.locator('ins.suggestion-ins:not(.suggestion--pending)', { hasText: text });
}

function deletion(page: Page, text: string): Locator {
  return page.locator('.suggestion-del:not(.suggestion--pending)', { hasText: text });
}

/** The margin card of the suggestion a mark in the text belongs to. */
async function cardOf(page: Page, mark: Locator): Promise<Locator> {
  const id = await mark.first().getAttribute('data-thread-id');
  expect(id).toBeTruthy();
  const card = page.locator(`[data-testid="thread"][data-thread-id="${id}"]`);
  await openCard(card);
  return card;
}

test('a commenter suggests in the text; the owner accepts, rejects and accepts the rest', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(
    request,
    `Föreslå ändringar ${Date.now()}`,
    `${PARAGRAPH}\n`,
    'utbildningsforvaltningen',
  );
  const sara = await loggedInPage(browser, 'sara.nyberg');
  const maria = await loggedInPage(browser, 'maria.holmberg');
  try {
    await openDocument(sara.page, id);
    await openDocument(maria.page, id);
    await expect(sara.page.locator('#document-readonly-note')).toBeVisible();
    await expect(editor(sara.page)).not.toHaveAttribute('aria-readonly', 'true');

    // An insertion, typed key by key.
    await caretAfter(sara.page, 'läxhjälp');
    await sara.page.keyboard.type(' och studiestöd');
    await expect(insertion(sara.page, 'och studiestöd')).toBeVisible();
    // A deletion: a selection and Backspace.
    await selectWords(sara.page, 1, 'varje vecka');
    await sara.page.keyboard.press('Backspace');
    await expect(deletion(sara.page, 'varje vecka')).toBeVisible();
    // A replacement: a selection typed over.
    await selectWords(sara.page, 1, 'alla elever');
    await sara.page.keyboard.type('varje elev');
    await expect(insertion(sara.page, 'varje elev')).toBeVisible();
    // One more insertion, for the bulk decision.
    await caretAfter(sara.page, 'grundskolan');
    await sara.page.keyboard.type(' och gymnasiet');
    await expect(insertion(sara.page, 'och gymnasiet')).toBeVisible();

    // Nothing changed in the text, for either of them; the owner sees every suggestion live.
    await expectParagraph(sara.page, PARAGRAPH);
    await expectParagraph(maria.page, PARAGRAPH);
    await expect(insertion(maria.page, 'och studiestöd')).toBeVisible();
    await expect(deletion(maria.page, 'varje vecka')).toBeVisible();
    await expect(insertion(maria.page, 'varje elev')).toBeVisible();
    await expect(insertion(maria.page, 'och gymnasiet')).toBeVisible();
    await expect(insertion(maria.page, 'och studiestöd')).toHaveAttribute(
      'title',
      /Sara Nyberg \(Utbildningsförvaltningen\)/,
    );
    await expectNoAxeViolations(maria.page, 'suggestions in the text');
    await expectNoAxeViolations(sara.page, "a commenter's suggesting mode");

    // The owner accepts the insertion in place.
    const accepted = await cardOf(maria.page, insertion(maria.page, 'och studiestöd'));
    await accepted.getByLabel('Motivering').fill('Bra.');
    await accepted.getByRole('button', { name: 'Godta förslaget' }).click();
    const afterInsert =
      'Skolorna erbjuder läxhjälp och studiestöd varje vecka till alla elever i grundskolan.';
    await expectParagraph(maria.page, afterInsert);
    await expectParagraph(sara.page, afterInsert);

    // … rejects the deletion: the text stays.
    const rejected = await cardOf(maria.page, deletion(maria.page, 'varje vecka'));
    await rejected.getByLabel('Motivering').fill('Varje vecka ska stå kvar.');
    await rejected.getByRole('button', { name: 'Avslå förslaget' }).click();
    await expect(deletion(maria.page, 'varje vecka')).toHaveCount(0);
    await expectParagraph(maria.page, afterInsert);

    // … edits the words the replacement was written against, which makes it conflicting.
    await selectWords(maria.page, 1, 'alla');
    await maria.page.keyboard.type('samtliga');
    const edited =
      'Skolorna erbjuder läxhjälp och studiestöd varje vecka till samtliga elever i grundskolan.';
    await expectParagraph(sara.page, edited);

    // … and accepts the rest of Utbildningsförvaltningen's at once: the conflicting one is
    // skipped and stays open.
    await maria.page
      .getByTestId('suggest-bulk')
      .getByRole('button', { name: 'Godkänn alla från Utbildningsförvaltningen' })
      .click();
    await expect(
      maria.page.getByTestId('comments-margin').getByText('1 förslag godkända, 1 hoppades över'),
    ).toBeVisible();
    const withRest = `${edited.slice(0, -1)} och gymnasiet.`;
    await expectParagraph(maria.page, withRest);
    await expectParagraph(sara.page, withRest);

    // The conflicting one is applied only after the owner has seen both texts.
    const conflicting = await cardOf(maria.page, insertion(maria.page, 'varje elev'));
    await conflicting.getByLabel('Motivering').fill('Ändå bättre.');
    await conflicting.getByRole('button', { name: 'Godta förslaget' }).click();
    const dialog = maria.page.getByRole('dialog', {
      name: 'Texten har ändrats sedan förslaget lämnades',
    });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByTestId('wording-original')).toHaveText('alla elever');
    await expect(dialog.getByTestId('wording-current')).toHaveText('samtliga elever');
    await expectParagraph(maria.page, withRest);
    await dialog.getByRole('button', { name: 'Godta ändå' }).click();
    const final =
      'Skolorna erbjuder läxhjälp och studiestöd varje vecka till varje elev i grundskolan och gymnasiet.';
    await expectParagraph(maria.page, final);
    await expectParagraph(sara.page, final);

    // The compilation records each suggestion as a tracked change with its decision.
    const owner = await apiToken(request, 'maria.holmberg');
    const compiled = await request.get(
      `/api/documents/${encodeURIComponent(id)}/compilation`,
      bearer(owner),
    );
    expect(compiled.ok()).toBe(true);
    const compilation = await compiled.text();
    expect(compilation).toContain('Infoga ” och studiestöd”');
    expect(compilation).toContain('Stryk ”varje vecka”');
    expect(compilation).toContain('Ersätt ”alla elever” med ”varje elev”');
    expect(compilation).toContain('Infoga ” och gymnasiet”');
    expect(compilation.match(/Godkänd och införd av Maria/g)).toHaveLength(3);
    expect(compilation.match(/Avvisad av Maria/g)).toHaveLength(1);
    expect(compilation).not.toContain('Öppen (inte avgjord)');
  } finally {
    await maria.context.close();
    await sara.context.close();
  }
});

test('an owner switches to suggesting and back; only in editing does typing change the text', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(request, `Läge ${Date.now()}`, `${PARAGRAPH}\n`);
  const maria = await loggedInPage(browser, 'maria.holmberg');
  try {
    await openDocument(maria.page, id);
    const mode = maria.page.getByRole('button', { name: 'Föreslå ändringar' });
    await expect(mode).toHaveAttribute('aria-pressed', 'false');
    await mode.click();
    await expect(mode).toHaveAttribute('aria-pressed', 'true');
    await expect(maria.page.locator('#document-readonly-note')).toContainText(
      'Du föreslår ändringar',
    );
    await caretAfter(maria.page, 'grundskolan');
    await maria.page.keyboard.type(' och förskolan');
    await expect(insertion(maria.page, 'och förskolan')).toBeVisible();
    await expectParagraph(maria.page, PARAGRAPH);
    await expectNoAxeViolations(maria.page, "an owner's suggesting mode");

    await mode.click();
    await expect(mode).toHaveAttribute('aria-pressed', 'false');
    await caretAfter(maria.page, 'Skolorna');
    await maria.page.keyboard.type(' i staden');
    await expectParagraph(
      maria.page,
      'Skolorna i staden erbjuder läxhjälp varje vecka till alla elever i grundskolan.',
    );
  } finally {
    await maria.context.close();
  }
});

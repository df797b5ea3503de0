/**
 * Suggestions across paragraphs, decided at the text (issue 16): a commenter selects from
 * one paragraph into the next and types a replacement; the owner sees it drawn inline
 * live, opens its popover at the text with the keyboard and accepts it, and the joined
 * paragraph reads right in both browsers. A second suggestion, made conflicting by the
 * owner's edit, carries the conflict label in the text and is accepted only through the
 * explicit "Godkänn ändå" step after both texts are shown. Enter while suggesting
 * proposes a paragraph break, which splits the paragraph once accepted.
 */
import type { Locator, Page } from '@playwright/test';
import {
  editor,
  editorSelection,
  expect,
  expectNoAxeViolations,
  loggedInPage,
  openDocument,
  ownedDocument,
  selectWords,
  test,
} from './fixtures';

const FIRST = 'Skolorna erbjuder läxhjälp varje vecka.';
const SECOND = 'Biblioteken har öppet på kvällarna.';
const THIRD = 'Parkerna sköts av stadsmiljöförvaltningen.';

/** The text of each block in the editor's document (the title is block 0). */
function blocks(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const dom = document.getElementById('document-editor') as
      | (Element & {
          editor?: {
            state: {
              doc: { childCount: number; child(i: number): { textContent: string } };
            };
          };
        })
      | null;
    const doc = dom?.editor?.state.doc;
    if (!doc) return [];
    return Array.from({ length: doc.childCount }, (_, i) => doc.child(i).textContent);
  });
}

/**
 * Selects from the start of `from` in block `first` to the end of `to` in block `last`
 * through the editor's own command (as `selectWords` does within one block).
 */
async function selectAcross(
  page: Page,
  [first, from]: [number, string],
  [last, to]: [number, string],
): Promise<void> {
  await page.evaluate(
    ({ first, from, last, to }) => {
      type Node = { isText: boolean; text?: string; nodeSize: number };
      type Block = Node & { descendants(f: (n: Node, pos: number) => void): void };
      const dom = document.getElementById('document-editor') as
        | (Element & {
            editor?: {
              state: { doc: { child(i: number): Block } };
              view: { focus(): void };
              commands: {
                setTextSelection(range: { from: number; to: number }): boolean;
                scrollIntoView(): boolean;
              };
            };
          })
        | null;
      const editor = dom?.editor;
      if (!editor) throw new Error('no editor');
      const { doc } = editor.state;
      const find = (index: number, text: string, after: boolean) => {
        let start = 0;
        for (let i = 0; i < index; i += 1) start += doc.child(i).nodeSize;
        let at = -1;
        doc.child(index).descendants((node, pos) => {
          const i = node.isText && at < 0 ? (node.text ?? '').indexOf(text) : -1;
          if (i >= 0) at = start + 1 + pos + i + (after ? text.length : 0);
        });
        if (at < 0) throw new Error(`"${text}" is not in block ${index}`);
        return at;
      };
      editor.view.focus();
      editor.commands.setTextSelection({
        from: find(first, from, false),
        to: find(last, to, true),
      });
      editor.commands.scrollIntoView();
    },
    { first, from, last, to },
  );
  // ProseMirror's own focus is synchronous; Tiptap's `focus` command would focus on a
  // later animation frame and then write its older selection back over a key pressed
  // in between.
  await expect(editor(page)).toBeFocused();
}

/** Puts the caret right after `word` in block `block`, through the editor's command. */
async function caretAfter(page: Page, [block, word]: [number, string]): Promise<void> {
  await selectAcross(page, [block, word], [block, word]);
  await page.evaluate(() => {
    const dom = document.getElementById('document-editor') as
      | (Element & {
          editor?: {
            state: { selection: { to: number } };
            commands: { setTextSelection(at: number): boolean };
          };
        })
      | null;
    const editor = dom?.editor;
    if (!editor) throw new Error('no editor');
    editor.commands.setTextSelection(editor.state.selection.to);
  });
}

/** The sent suggestion's struck-through parts containing `text`. */
function deletion(page: Page, text: string): Locator {
  return page.locator('.suggestion-del:not(.suggestion--pending)', { hasText: text });
}

function insertion(page: Page, text: string): Locator {
  return page.locator('ins.suggestion-ins:not(.suggestion--pending)', { hasText: text });
}

test('a suggestion across paragraphs is drawn inline and decided at the text, conflicts included', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(
    request,
    `Över stycken ${Date.now()}`,
    `${FIRST}\n\n${SECOND}\n\n${THIRD}\n`,
    'utbildningsforvaltningen',
  );
  const sara = await loggedInPage(browser, 'sara.nyberg');
  const maria = await loggedInPage(browser, 'maria.holmberg');
  try {
    await openDocument(sara.page, id);
    await openDocument(maria.page, id);
    await expect(sara.page.locator('#document-readonly-note')).toBeVisible();

    // The commenter selects from "varje vecka." into the next paragraph and types over it.
    await selectAcross(sara.page, [1, 'varje vecka.'], [2, 'Biblioteken har']);
    await sara.page.keyboard.type('varje dag, och biblioteken har');
    await expect(insertion(sara.page, 'varje dag, och biblioteken har')).toBeVisible();

    // The owner sees it live: struck through in both paragraphs, the new words after.
    const struck = deletion(maria.page, 'varje vecka.');
    await expect(struck).toBeVisible();
    await expect(deletion(maria.page, 'Biblioteken har')).toBeVisible();
    const thread = await struck.first().getAttribute('data-thread-id');
    await expect(deletion(maria.page, 'Biblioteken har')).toHaveAttribute(
      'data-thread-id',
      thread ?? '',
    );
    await expect(insertion(maria.page, 'varje dag, och biblioteken har')).toBeVisible();
    expect(await blocks(maria.page)).toEqual([expect.any(String), FIRST, SECOND, THIRD]);

    // … puts the caret in it and presses Enter: the popover opens at the text.
    await selectWords(maria.page, 1, 'vecka');
    // A key pressed just after the editor took focus can be lost; with the selection
    // still whole, Enter would replace it. So the caret must be seen collapsed (still
    // inside "varje vecka.") before Enter.
    await expect(async () => {
      await maria.page.keyboard.press('ArrowLeft');
      expect(await editorSelection(maria.page)).toBe('');
    }).toPass();
    await maria.page.keyboard.press('Enter');
    const popover = maria.page.getByRole('dialog', {
      name: 'Förslag från Sara Nyberg (Utbildningsförvaltningen)',
    });
    await expect(popover).toBeVisible();
    await expect(popover.getByTestId('suggestion-removes')).toHaveText(
      'varje vecka.\nBiblioteken har',
    );
    await expect(popover.getByTestId('suggestion-inserts')).toHaveText(
      'varje dag, och biblioteken har',
    );
    const accept = popover.getByRole('button', { name: 'Godkänn', exact: true });
    await expect(accept).toBeFocused();
    await expectNoAxeViolations(maria.page, 'the suggestion popover');
    // Escape closes it and puts focus back in the text; Enter opens it again.
    await maria.page.keyboard.press('Escape');
    await expect(popover).toHaveCount(0);
    await expect(editor(maria.page)).toBeFocused();
    await maria.page.keyboard.press('Enter');
    await expect(accept).toBeFocused();
    await maria.page.keyboard.press('Enter');
    await expect(popover).toHaveCount(0);

    const joined = 'Skolorna erbjuder läxhjälp varje dag, och biblioteken har öppet på kvällarna.';
    for (const page of [maria.page, sara.page]) {
      await expect.poll(() => blocks(page)).toEqual([expect.any(String), joined, THIRD]);
    }

    // A second suggestion across the paragraphs, a deletion …
    await selectAcross(sara.page, [1, ' på kvällarna.'], [2, 'Parkerna']);
    await sara.page.keyboard.press('Backspace');
    await expect(deletion(maria.page, 'på kvällarna.')).toBeVisible();
    await expect(maria.page.getByTestId('suggestion-conflict-label')).toHaveCount(0);

    // … made conflicting by the owner rewriting a word inside its range.
    await selectWords(maria.page, 2, 'Parkerna');
    await maria.page.keyboard.type('Grönområdena');
    await expect
      .poll(() => blocks(sara.page))
      .toEqual([expect.any(String), joined, 'Grönområdena sköts av stadsmiljöförvaltningen.']);
    const label = maria.page.getByTestId('suggestion-conflict-label');
    await expect(label).toHaveText('Konflikt: texten har ändrats');
    await expect(sara.page.getByTestId('suggestion-conflict-label')).toBeVisible();

    // A click on it opens the popover with both texts and no plain accept.
    await label.click();
    await expect(popover).toBeVisible();
    await expect(popover.getByTestId('suggestion-popover-conflict')).toHaveText(
      'Konflikt: texten har ändrats',
    );
    await expect(popover.getByTestId('suggestion-proposed-against')).toHaveText(
      ' på kvällarna.\nParkerna',
    );
    await expect(popover.getByTestId('suggestion-stands-now')).toHaveText(
      ' på kvällarna.\nGrönområdena',
    );
    await expect(popover.getByRole('button', { name: 'Godkänn', exact: true })).toHaveCount(0);
    await expectNoAxeViolations(maria.page, 'the popover of a conflicting suggestion');
    // Nothing happened yet.
    expect(await blocks(maria.page)).toEqual([
      expect.any(String),
      joined,
      'Grönområdena sköts av stadsmiljöförvaltningen.',
    ]);
    await popover.getByRole('button', { name: 'Godkänn ändå' }).click();
    const final =
      'Skolorna erbjuder läxhjälp varje dag, och biblioteken har öppet sköts av stadsmiljöförvaltningen.';
    for (const page of [maria.page, sara.page]) {
      await expect.poll(() => blocks(page)).toEqual([expect.any(String), final]);
    }
    await expect(maria.page.getByTestId('suggestion-conflict-label')).toHaveCount(0);

    // Enter while suggesting proposes a paragraph break; accepted, it splits the paragraph.
    // The caret is put there by the editor's own command, not by a selection and an
    // arrow key: an arrow pressed as the editor takes focus was lost in CI twice, and
    // Enter then replaced the selected words with the break.
    await caretAfter(sara.page, [1, 'varje dag,']);
    await expect.poll(() => editorSelection(sara.page)).toBe('');
    await sara.page.keyboard.press('Enter');
    const pilcrow = maria.page.locator('ins.suggestion-ins:not(.suggestion--pending)');
    await expect(pilcrow).toContainText('¶');
    await caretAfter(maria.page, [1, 'varje dag,']);
    await maria.page.keyboard.press('Enter');
    await expect(popover).toBeVisible();
    await popover.getByRole('button', { name: 'Godkänn', exact: true }).click();
    for (const page of [maria.page, sara.page]) {
      await expect
        .poll(() => blocks(page))
        .toEqual([
          expect.any(String),
          'Skolorna erbjuder läxhjälp varje dag,',
          ' och biblioteken har öppet sköts av stadsmiljöförvaltningen.',
        ]);
    }
  } finally {
    await maria.context.close();
    await sara.context.close();
  }
});

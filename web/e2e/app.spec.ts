import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import {
  apiToken,
  bearer,
  DEMO_DOC_ID,
  DEMO_TITLE,
  editor,
  expect,
  expectNoAxeViolations,
  loggedInPage,
  login,
  openDocument,
  ownedDocument,
  passwordOf,
  selected,
  test,
  tokenOf,
} from './fixtures';

test('an owner logs in, sees the demo draft in the list and opens it', async ({ page }) => {
  await login(page, 'maria.holmberg');

  const row = page.getByRole('row').filter({ hasText: DEMO_TITLE });
  await expect(row).toContainText('Stadsledningskontoret');
  await expect(row).toContainText('Ägare');
  await expect(page.getByRole('columnheader', { name: 'Senast ändrad' })).toBeVisible();

  await row.getByRole('link', { name: DEMO_TITLE }).click();
  await expect(page).toHaveURL(new RegExp(`/d/${DEMO_DOC_ID}$`));
  await expect(page.getByTestId('connection')).toHaveText(/Ansluten/);
  await expect(editor(page).getByRole('heading', { level: 1 })).toHaveText(DEMO_TITLE);
  await expect(editor(page)).toHaveAttribute('contenteditable', 'true');
  await expect(page.getByRole('toolbar', { name: 'Textformat' })).toBeVisible();

  // Export: fetched with the token and saved as a file.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Ladda ner som Markdown' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('stockholms-stads-trygghetsprogram-2020-2023.md');
  const markdown = await readFile(await download.path(), 'utf8');
  expect(markdown).toContain(`# ${DEMO_TITLE}`);

  // The route guard: logging out and coming back leads to the login page.
  await page.getByRole('button', { name: 'Logga ut' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Logga in' })).toBeVisible();
  await page.goto(`/d/${DEMO_DOC_ID}`);
  await expect(page).toHaveURL(/\/login\?next=/);
});

test('two organisations co-edit: each sees the other’s text, labelled cursor and presence', async ({
  browser,
}) => {
  const maria = await loggedInPage(browser, 'maria.holmberg');
  const helena = await loggedInPage(browser, 'helena.strand');
  try {
    await openDocument(maria.page, DEMO_DOC_ID);
    await openDocument(helena.page, DEMO_DOC_ID);
    // Maria hears, through the polite live region, that Helena arrived.
    await expect(maria.page.getByTestId('live-region')).toContainText(
      'Helena Strand (Socialförvaltningen) har öppnat dokumentet.',
    );

    const mariaText = `Stadsledningskontoret lägger till en mening ${Date.now()}.`;
    await typeAtEnd(maria.page, mariaText);
    await expect(editor(helena.page)).toContainText(mariaText);

    const helenaText = `Socialförvaltningen föreslår ett tillägg ${Date.now()}.`;
    await typeAtEnd(helena.page, helenaText);
    await expect(editor(maria.page)).toContainText(helenaText);

    // Remote carets, labelled "Name (Organisation)" (both editors keep focus).
    await expect(
      maria.page.locator('.collaboration-carets__label', {
        hasText: 'Helena Strand (Socialförvaltningen)',
      }),
    ).toBeVisible();
    await expect(
      helena.page.locator('.collaboration-carets__label', {
        hasText: 'Maria Holmberg (Stadsledningskontoret)',
      }),
    ).toBeVisible();

    // Who is here now: both, in both windows.
    for (const page of [maria.page, helena.page]) {
      const presence = page.getByTestId('presence');
      await expect(presence).toContainText('Maria Holmberg');
      await expect(presence).toContainText('Helena Strand');
    }
    await expect(maria.page.getByTestId('presence')).toContainText(
      'Helena Strand (Socialförvaltningen)',
    );
  } finally {
    await maria.context.close();
    await helena.context.close();
  }
});

test("a commenter's typing becomes a suggestion, never a change to the text", async ({
  page,
  request,
}) => {
  // Suggesting mode (issue 16): a commenter types as usual, the text stays as it is.
  const id = await ownedDocument(
    request,
    `Kommentatorns text ${Date.now()}`,
    'Texten som den är.\n',
    'utbildningsforvaltningen',
  );
  const owner = await apiToken(request, 'maria.holmberg');
  const serverText = async () => {
    const response = await request.get(
      `/api/documents/${encodeURIComponent(id)}/text`,
      bearer(owner),
    );
    expect(response.ok()).toBe(true);
    return response.text();
  };
  const serverBefore = await serverText();
  await login(page, 'sara.nyberg');
  await openDocument(page, id);

  const text = editor(page);
  await expect(text).toHaveAttribute('contenteditable', 'true');
  await expect(text).not.toHaveAttribute('aria-readonly', 'true');
  await expect(page.locator('#document-readonly-note')).toContainText('det du skriver');
  await expect(page.getByRole('toolbar')).toHaveCount(0);

  await text.locator('p').first().click();
  await page.keyboard.press('End');
  await page.keyboard.type(' Detta blir ett förslag');
  await page.keyboard.press('Enter');
  await expect(
    page.locator('ins.suggestion-ins:not(.suggestion--pending)', {
      hasText: 'Detta blir ett förslag',
    }),
  ).toBeVisible();
  await expect(text.locator('p').first()).toHaveText(/^Texten som den är\./);
  expect(await serverText()).toBe(serverBefore);
});

test('a viewer cannot change the text and has no way to comment', async ({ page, request }) => {
  // Kulturförvaltningen is viewer on the demo document.
  const owner = await apiToken(request, 'maria.holmberg');
  const serverText = async () => {
    const response = await request.get(
      `/api/documents/${encodeURIComponent(DEMO_DOC_ID)}/text`,
      bearer(owner),
    );
    expect(response.ok()).toBe(true);
    return response.text();
  };
  const members = await request.get(
    `/api/documents/${encodeURIComponent(DEMO_DOC_ID)}/members`,
    bearer(owner),
  );
  expect(members.ok()).toBe(true);
  const roles = (await members.json()) as { id: string; role: string }[];
  expect(roles.find((m) => m.id === 'kulturforvaltningen')?.role).toBe('viewer');
  const serverBefore = await serverText();

  await login(page, 'ingrid.fors');
  await expect(page.getByRole('row').filter({ hasText: DEMO_TITLE })).toContainText('Läsare');
  await openDocument(page, DEMO_DOC_ID);

  const text = editor(page);
  await expect(text).toHaveAttribute('contenteditable', 'false');
  await expect(text).toHaveAttribute('aria-readonly', 'true');
  await expect(page.locator('#document-readonly-note')).toContainText('läsare');
  await expect(page.getByRole('toolbar')).toHaveCount(0);

  // No way to comment: no "Kommentera" button, and Ctrl+Alt+M opens nothing.
  const margin = page.getByTestId('comments-margin');
  await expect(margin.getByTestId('thread').first()).toBeVisible();
  await expect(margin).toContainText('kan läsa kommentarerna men inte skriva');
  await expect(page.getByRole('button', { name: 'Kommentera' })).toHaveCount(0);
  await expect(page.getByTestId('comment-button')).toHaveCount(0);

  const editorBefore = await text.textContent();
  await text.locator('p').first().click();
  await page.keyboard.press('End');
  await page.keyboard.type('Läsaren skriver här');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Delete');
  await page.keyboard.press('Control+Alt+M');
  await expect(page.getByTestId('compose')).toHaveCount(0);
  await expect(text).not.toContainText('Läsaren skriver här');
  expect(await text.textContent()).toBe(editorBefore);

  // Reopened from the server, the text is what it was, and the server's copy is unchanged.
  await page.reload();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
  await expect(text.locator('h1, h2, h3, p').first()).toBeVisible();
  expect(await text.textContent()).toBe(editorBefore);
  const serverAfter = await serverText();
  expect(serverAfter).not.toContain('Läsaren skriver här');
  expect(serverAfter).toBe(serverBefore);
});

test('the owner creates a document, invites an organisation as viewer and makes it commenter', async ({
  page,
}) => {
  await login(page, 'maria.holmberg');

  // A .md file fills the Markdown field (and the title, from its first heading, if empty).
  await page.getByLabel('Läs in en Markdown-fil (.md)').setInputFiles({
    name: 'utkast.md',
    mimeType: 'text/markdown',
    buffer: Buffer.from('# Från en fil\n\nFörsta stycket.\n', 'utf8'),
  });
  await expect(page.getByLabel('Innehåll i Markdown (valfritt)')).toHaveValue(/^# Från en fil/);
  await expect(page.getByLabel('Titel')).toHaveValue('Från en fil');

  const title = `Remiss om lokala trygghetsråd ${Date.now()}`;
  await page.getByLabel('Titel').fill(title);
  await page
    .getByLabel('Innehåll i Markdown (valfritt)')
    .fill(
      '# Lokala trygghetsråd\n\nEtt kort utkast om **samverkan** i stadsdelarna.\n\n- Polisen\n- Skolan\n',
    );
  await page.getByRole('button', { name: 'Skapa dokument' }).click();

  await expect(page).toHaveURL(/\/d\/[^/]+$/);
  await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
  await expect(editor(page).getByRole('heading', { level: 1 })).toHaveText('Lokala trygghetsråd');
  await expect(editor(page).locator('strong')).toHaveText('samverkan');

  await page.getByRole('button', { name: 'Medlemmar' }).click();
  const panel = page.getByRole('region', { name: 'Medlemmar' });
  await expect(panel.getByRole('row', { name: /Stadsledningskontoret/ })).toContainText('Ägare');

  await panel
    .getByLabel('Organisation', { exact: true })
    .selectOption({ label: 'Kulturförvaltningen' });
  await panel.getByLabel('Roll', { exact: true }).selectOption({ label: 'Läsare' });
  await panel.getByRole('button', { name: 'Bjud in' }).click();
  await expect(panel.getByRole('status')).toHaveText('Kulturförvaltningen är inbjuden som Läsare.');

  const roleSelect = panel.getByLabel('Roll för Kulturförvaltningen', { exact: true });
  await expect(roleSelect).toHaveValue('viewer');
  await roleSelect.selectOption({ label: 'Kommentator' });
  await panel.getByRole('button', { name: 'Spara roll för Kulturförvaltningen' }).click();
  await expect(panel.getByRole('status')).toHaveText(
    'Kulturförvaltningen har nu rollen Kommentator.',
  );
  await expect(panel.getByLabel('Roll för Kulturförvaltningen', { exact: true })).toHaveValue(
    'commenter',
  );

  // The server agrees.
  const docId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
  const response = await page.request.get(`/api/documents/${encodeURIComponent(docId)}/members`, {
    headers: { Authorization: `Bearer ${await tokenOf(page)}` },
  });
  expect(response.ok()).toBe(true);
  const members = (await response.json()) as { id: string; role: string }[];
  expect(members.find((m) => m.id === 'kulturforvaltningen')?.role).toBe('commenter');
});

test('switching to English changes the UI language, and the choice persists', async ({ page }) => {
  await page.goto('/login');
  await expect(page.locator('html')).toHaveAttribute('lang', 'sv');
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByRole('heading', { level: 1, name: 'Log in' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'English' })).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  await expect(page.getByRole('button', { name: 'English' })).toBeFocused();

  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Log in' })).toBeVisible();

  await page.getByLabel('Username').fill('maria.holmberg');
  await page.getByLabel('Password').fill(passwordOf('maria.holmberg'));
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Documents' })).toBeVisible();
  await expect(page.getByRole('columnheader', { name: 'Last edited' })).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: DEMO_TITLE })).toContainText('Owner');

  await page.getByRole('link', { name: DEMO_TITLE }).click();
  await expect(page.getByTestId('connection')).toHaveText(/Connected/);
  await expect(page.getByRole('toolbar', { name: 'Text format' })).toBeVisible();

  // Switching back redraws the document view in place, without reconnecting.
  await page.getByRole('button', { name: 'Svenska' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'sv');
  await expect(page.getByRole('toolbar', { name: 'Textformat' })).toBeVisible();
  await expect(page.getByTestId('connection')).toHaveText(/Ansluten/);
  await expect(editor(page).getByRole('heading', { level: 1 })).toHaveText(DEMO_TITLE);
});

test('the toolbar is one tab stop with arrow keys; Alt+F10 reaches it from the text', async ({
  page,
  request,
}) => {
  // A document of its own, so the formatting below meets no earlier run's.
  const created = await request.post('/api/documents', {
    ...bearer(await apiToken(request, 'maria.holmberg')),
    data: {
      title: `Tangentbord ${Date.now()}`,
      markdown: '# Tangentbord\n\nEtt stycke att formatera.',
    },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  await login(page, 'maria.holmberg');
  await openDocument(page, id);
  const toolbar = page.getByRole('toolbar', { name: 'Textformat' });
  await expect(toolbar.locator('button[tabindex="0"]')).toHaveCount(1);

  // The skip link is the first stop and leads to <main> without reloading the document.
  await page.locator('body').focus();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Hoppa till innehållet' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');

  await editor(page).locator('p').first().click();
  await page.keyboard.press('Alt+F10');
  await expect(toolbar.getByRole('button', { name: 'Brödtext' })).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(toolbar.getByRole('button', { name: 'Rubrik 1' })).toBeFocused();
  await page.keyboard.press('End');
  await expect(toolbar.getByRole('button', { name: 'Gör om' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(editor(page)).toBeFocused();

  // Bold through the toolbar reports its state with aria-pressed.
  await page.keyboard.press('End');
  await page.keyboard.type(' fetstil');
  await expect(editor(page)).toContainText('fetstil');
  await page.keyboard.press('Shift+Control+ArrowLeft');
  // ProseMirror reads the DOM selection on its own schedule: wait until the editor's
  // own state holds it, or the toolbar would format the old (empty) selection.
  await selected(page, 'fetstil');
  await page.keyboard.press('Alt+F10');
  const bold = toolbar.getByRole('button', { name: 'Fet' });
  await bold.focus();
  await page.keyboard.press('Enter');
  await expect(bold).toHaveAttribute('aria-pressed', 'true');
  await expect(editor(page).locator('strong', { hasText: 'fetstil' })).toBeVisible();
});

test('the connection indicator tells a member whose access is revoked or whose document is archived', async ({
  browser,
  request,
}) => {
  const owner = await apiToken(request, 'maria.holmberg');
  const makeDoc = async (title: string) => {
    const created = await request.post('/api/documents', {
      ...bearer(owner),
      data: { title, markdown: `# ${title}\n\nEtt stycke.` },
    });
    expect(created.status()).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const invited = await request.put(
      `/api/documents/${encodeURIComponent(id)}/members/utbildningsforvaltningen`,
      { ...bearer(owner), data: { role: 'commenter' } },
    );
    expect(invited.ok()).toBe(true);
    return id;
  };
  const revoked = await makeDoc(`Återkallad ${Date.now()}`);
  const deleted = await makeDoc(`Raderad ${Date.now()}`);

  const sara = await loggedInPage(browser, 'sara.nyberg');
  try {
    const connection = sara.page.getByTestId('connection');
    await openDocument(sara.page, revoked);
    const removed = await request.delete(
      `/api/documents/${encodeURIComponent(revoked)}/members/utbildningsforvaltningen`,
      bearer(owner),
    );
    expect(removed.ok()).toBe(true);
    await expect(connection).toHaveAttribute('data-state', 'disconnected');
    await expect(connection).toHaveText(/Frånkopplad/);
    await expect(sara.page.locator('[data-close-code="4403"]')).toContainText(
      'inte längre tillgång',
    );

    await openDocument(sara.page, deleted);
    const gone = await request.delete(
      `/api/documents/${encodeURIComponent(deleted)}`,
      bearer(owner),
    );
    expect(gone.ok()).toBe(true);
    await expect(connection).toHaveAttribute('data-state', 'disconnected');
    await expect(sara.page.locator('[data-close-code="4410"]')).toContainText(
      'Dokumentet har arkiverats',
    );
  } finally {
    await sara.context.close();
  }
});

/**
 * Runs axe-core with the WCAG 2.1 A and AA rules and expects no violation at all, whatever
 * its impact (minor and moderate ones included). Nothing is excluded.
 */
test('axe finds no WCAG 2.1 A/AA violations on login, list and document view', async ({ page }) => {
  await page.goto('/login');
  await expect(page.getByRole('heading', { level: 1, name: 'Logga in' })).toBeVisible();
  await expectNoAxeViolations(page, 'the login page');

  await login(page, 'maria.holmberg');
  await expect(page.getByRole('row').filter({ hasText: DEMO_TITLE })).toBeVisible();
  await expectNoAxeViolations(page, 'the document list');

  await openDocument(page, DEMO_DOC_ID);
  await expect(page.getByTestId('comments-margin').getByTestId('thread').first()).toBeVisible();
  await expectNoAxeViolations(page, 'the document view (owner)');

  await page.getByRole('button', { name: 'Medlemmar' }).click();
  await expect(page.getByRole('region', { name: 'Medlemmar' }).getByRole('table')).toBeVisible();
  await expectNoAxeViolations(page, 'the document view (owner, members open)');
});

test('the document view for a commenter passes axe too', async ({ page }) => {
  await login(page, 'sara.nyberg');
  await openDocument(page, DEMO_DOC_ID);
  await expect(page.getByTestId('comments-margin').getByTestId('thread').first()).toBeVisible();
  await expectNoAxeViolations(page, 'the document view (commenter)');
});

/** Puts the caret at the end of the document and types a new paragraph. */
async function typeAtEnd(page: Page, text: string): Promise<void> {
  const target = editor(page);
  await target.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(text);
  await expect(target).toContainText(text);
}

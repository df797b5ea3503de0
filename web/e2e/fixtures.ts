/**
 * Shared pieces of the end-to-end tests: the server's address and the demo logins (from
 * global-setup), logging in through the UI, opening a document and waiting until it is
 * live. Every wait is on a locator or an event, never on a fixed time.
 */
import AxeBuilder from '@axe-core/playwright';
import {
  type APIRequestContext,
  type Browser,
  type BrowserContext,
  test as base,
  expect,
  type Locator,
  type Page,
} from '@playwright/test';
import type { DemoLogin } from './global-setup';

export const DEMO_DOC_ID = 'trygghetsprogram-2020-2023';
export const DEMO_TITLE = 'Stockholms stads trygghetsprogram 2020–2023';

function serverUrl(): string {
  const url = process.env.FORANKRA_E2E_URL;
  if (!url) throw new Error('FORANKRA_E2E_URL is not set: run the tests with `npm run e2e`');
  return url;
}

export function passwordOf(username: string): string {
  const logins = JSON.parse(process.env.FORANKRA_E2E_LOGINS ?? '[]') as DemoLogin[];
  const login = logins.find((l) => l.username === username);
  if (!login) throw new Error(`no demo login for ${username} in the server's output`);
  return login.password;
}

/** Content-Security-Policy violations seen during the current test, in any page. */
const cspViolations: string[] = [];

/**
 * Reports every CSP violation in the context's pages as a console error and collects it:
 * the server's policy allows only the app's own scripts and styles, and a violation
 * means the app (or an injected payload) tried something else.
 */
export async function watchCsp(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(
        `CSP violation: ${event.violatedDirective} ${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}:${event.columnNumber}`,
      );
    });
  });
  context.on('console', (message) => {
    if (message.text().startsWith('CSP violation')) cspViolations.push(message.text());
  });
}

/** The violations seen so far in this test; `clear` forgets them (for a test that provokes one). */
export function cspViolationsSeen(clear = false): string[] {
  const seen = [...cspViolations];
  if (clear) cspViolations.length = 0;
  return seen;
}

export const test = base.extend<{ cspGuard: undefined }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern.
  baseURL: async ({}, use) => {
    await use(serverUrl());
  },
  context: async ({ context }, use) => {
    await watchCsp(context);
    await use(context);
  },
  // Every test fails if any page broke the Content-Security-Policy.
  cspGuard: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern.
    async ({}, use) => {
      cspViolations.length = 0;
      await use(undefined);
      expect(cspViolations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** Logs in through the login form and waits for the document list. */
export async function login(page: Page, username: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Användarnamn').fill(username);
  await page.getByLabel('Lösenord').fill(passwordOf(username));
  await page.getByRole('button', { name: 'Logga in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Dokument' })).toBeVisible();
}

/** A new browser context (its own sessionStorage), logged in as `username`. */
export async function loggedInPage(
  browser: Browser,
  username: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: serverUrl() });
  await watchCsp(context);
  const page = await context.newPage();
  await login(page, username);
  return { context, page };
}

export function editor(page: Page) {
  return page.locator('#document-editor');
}

/** Opens a document by its address and waits until its text has synced. */
export async function openDocument(page: Page, id: string): Promise<void> {
  await page.goto(`/d/${encodeURIComponent(id)}`);
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
  await expect(editor(page).locator('h1, h2, h3, p').first()).toBeVisible();
}

/**
 * The token in the page's HttpOnly session cookie (no script of the page can read it;
 * the test reads it from the browser context), for checking results through the API.
 */
export async function tokenOf(page: Page): Promise<string> {
  const cookies = await page.context().cookies();
  const token = cookies.find((c) => c.name === 'forankra_session')?.value;
  if (!token) throw new Error('not logged in');
  return token;
}

/** Logs in through the API (for arranging a test's situation, not for testing login). */
export async function apiToken(request: APIRequestContext, username: string): Promise<string> {
  const response = await request.post('/api/login', {
    data: { username, password: passwordOf(username) },
  });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

export function bearer(token: string): { headers: Record<string, string> } {
  return { headers: { Authorization: `Bearer ${token}` } };
}

/** Opens a thread's card (only the active card shows more than its summary line). */
export async function openCard(card: Locator): Promise<void> {
  const toggle = card.getByTestId('thread-toggle');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
}

/**
 * The text selected in the editor's own state. ProseMirror reads the DOM selection on its
 * own schedule, so a test that acts on a selection waits until the state holds it.
 */
export async function editorSelection(page: Page): Promise<string> {
  return page.evaluate(() => {
    const dom = document.getElementById('document-editor') as
      | (Element & {
          editor?: {
            state: {
              selection: { from: number; to: number };
              doc: { textBetween(a: number, b: number): string };
            };
          };
        })
      | null;
    const state = dom?.editor?.state;
    return state ? state.doc.textBetween(state.selection.from, state.selection.to) : '';
  });
}

/** Waits until both the page and the editor's state select `text`, and returns it. */
export async function selected(page: Page, text: string): Promise<string> {
  await expect
    .poll(async () => (await page.evaluate(() => window.getSelection()?.toString() ?? '')).trim())
    .toBe(text);
  await expect.poll(() => editorSelection(page)).toBe(text);
  return text;
}

/**
 * Selects the first words of paragraph `index` (the title is 0) with the keyboard, and
 * waits until the editor holds the selection.
 */
export async function selectParagraphStart(
  page: Page,
  index: number,
  words: string,
): Promise<void> {
  await editor(page).focus();
  await page.keyboard.press('Control+Home');
  for (let i = 0; i < index; i += 1) await page.keyboard.press('Control+ArrowDown');
  await page.keyboard.press('Home');
  for (const _ of words.split(' ')) await page.keyboard.press('Shift+Control+ArrowRight');
  await selected(page, words);
}

/** axe-core with the WCAG 2.1 A and AA rules finds nothing at all, of any impact. */
export async function expectNoAxeViolations(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const violations = results.violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(violations, `axe on ${what}`).toEqual([]);
}

/**
 * A new document owned by Stadsledningskontoret (Maria Holmberg), with `markdown` as its
 * text and, when given, `commenterOrg` invited as commenter. Returns its id.
 */
export async function ownedDocument(
  request: APIRequestContext,
  title: string,
  markdown: string,
  commenterOrg?: string,
): Promise<string> {
  const owner = await apiToken(request, 'maria.holmberg');
  const created = await request.post('/api/documents', {
    ...bearer(owner),
    data: { title, markdown: `# ${title}\n\n${markdown}` },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  if (commenterOrg) {
    const invited = await request.put(
      `/api/documents/${encodeURIComponent(id)}/members/${commenterOrg}`,
      { ...bearer(owner), data: { role: 'commenter' } },
    );
    expect(invited.ok()).toBe(true);
  }
  return id;
}

/**
 * Selects the first occurrence of `text` in block `index` (0-based, the title is 0), and
 * waits until the editor holds the selection. The selection is set through the editor's
 * own command, not with keys: on a loaded 2-core machine key-driven word selection twice
 * landed on other words. Selecting by keyboard has its own tests (threads.spec.ts).
 */
export async function selectWords(page: Page, index: number, text: string): Promise<void> {
  await page.evaluate(
    ({ index, text }) => {
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
      let start = 0;
      for (let i = 0; i < index; i += 1) start += doc.child(i).nodeSize;
      let from = -1;
      doc.child(index).descendants((node, pos) => {
        const at = node.isText && from < 0 ? (node.text ?? '').indexOf(text) : -1;
        if (at >= 0) from = start + 1 + pos + at;
      });
      if (from < 0) throw new Error(`"${text}" is not in paragraph ${index}`);
      editor.view.focus();
      editor.commands.setTextSelection({ from, to: from + text.length });
      // As Tiptap's `focus` command did: the selection is scrolled into view.
      editor.commands.scrollIntoView();
    },
    { index, text },
  );
  await selected(page, text);
  // ProseMirror's own focus is synchronous; Tiptap's `focus` command would focus on a
  // later animation frame and then write its older selection back over a key pressed
  // in between.
  await expect(editor(page)).toBeFocused();
}

/**
 * Shared pieces of the end-to-end tests: the server's address and the demo logins (from
 * global-setup), logging in through the UI, opening a document and waiting until it is
 * live. Every wait is on a locator or an event, never on a fixed time.
 */
import {
  type APIRequestContext,
  type Browser,
  type BrowserContext,
  test as base,
  expect,
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
async function watchCsp(context: BrowserContext): Promise<void> {
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

/** The token the app keeps in sessionStorage, for checking results through the API. */
export async function tokenOf(page: Page): Promise<string> {
  const token = await page.evaluate(() => sessionStorage.getItem('forankra.token'));
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

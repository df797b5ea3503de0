/**
 * Signing in through the organisation's identity provider, in Chromium: the real npm
 * `oidc-provider` (tests/node/oidc-provider.mjs) on loopback, its own sign-in page, back
 * to the app with the HttpOnly session cookie and nothing in script-readable storage,
 * then editing a draft over a WebSocket opened with a single-use ticket. The shared
 * server has no provider, so this spec starts its own, with the organisation mapped by
 * the CLI as an operator would.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { editor, openDocument, watchCsp } from './fixtures';

const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE_DIR = resolve(WEB_DIR, '../tests/node');
const BIN = resolve(WEB_DIR, process.env.FORANKRA_BIN ?? '../target/debug/forankra');
const SECRET = 'e2e-klienthemlighet';

let idp: ChildProcess | null = null;
let server: ChildProcess | null = null;
let base = '';

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

async function firstLine(child: ChildProcess): Promise<string> {
  if (!child.stdout) throw new Error('no stdout');
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) return line;
  throw new Error('the provider printed nothing');
}

async function healthy(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not start`);
}

test.beforeAll(async () => {
  idp = spawn('node', ['oidc-provider.mjs'], {
    cwd: NODE_DIR,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const { issuer } = JSON.parse(await firstLine(idp)) as { issuer: string };
  base = `http://127.0.0.1:${await freePort()}`;
  const configured = await fetch(`${issuer}/_test/configure`, {
    method: 'POST',
    body: JSON.stringify({
      clients: [
        {
          client_id: 'forankra',
          client_secret: SECRET,
          redirect_uris: [`${base}/auth/oidc/callback`],
          post_logout_redirect_uris: [`${base}/`],
        },
      ],
      accounts: {
        anna: { name: 'Anna Lind', email: 'anna.lind@stad.example.se', department: 'UBF' },
      },
    }),
  });
  expect(configured.ok).toBe(true);
  const db = join(mkdtempSync(join(tmpdir(), 'forankra-oidc-e2e-')), 'oidc.db');
  const cli = (...args: string[]) =>
    execFileSync(BIN, [...args, '--database-url', db], { stdio: 'ignore' });
  cli('org', 'add', '--org', 'utbildningsforvaltningen', '--name', 'Utbildningsförvaltningen');
  cli('org', 'map', '--provider', issuer, '--value', 'UBF', '--org', 'utbildningsforvaltningen');
  server = spawn(
    BIN,
    [
      'serve',
      '--listen',
      base.replace('http://', ''),
      '--database-url',
      db,
      '--web-dir',
      'dist',
      '--public-url',
      base,
      '--oidc-issuer',
      issuer,
      '--oidc-client-id',
      'forankra',
      '--oidc-org-claim',
      'department',
    ],
    {
      cwd: WEB_DIR,
      stdio: 'ignore',
      env: { ...process.env, FORANKRA_OIDC_CLIENT_SECRET: SECRET },
    },
  );
  await healthy(base);
});

test.afterAll(() => {
  server?.kill('SIGTERM');
  idp?.kill('SIGTERM');
});

test('a user signs in at the identity provider and edits a draft', async ({ browser }) => {
  const context = await browser.newContext({ baseURL: base });
  await watchCsp(context);
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByRole('link', { name: 'Logga in med organisationens konto' }).click();

  // The provider's own sign-in page (its development interaction).
  await page.locator('input[name="login"]').fill('anna');
  await page.locator('input[name="password"]').fill('vad-som-helst');
  await page.locator('button[type="submit"]').click();

  await expect(page.getByRole('heading', { level: 1, name: 'Dokument' })).toBeVisible();
  await expect(page.getByText('Inloggad som Anna Lind, Utbildningsförvaltningen')).toBeAttached();
  const cookie = (await context.cookies()).find((c) => c.name === 'forankra_session');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Lax');
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
  expect(stored).not.toContain(cookie?.value ?? 'no cookie');
  expect(stored).not.toContain('eyJ');

  // page.request shares the browser's cookies; the write needs the app's header.
  const created = await page.request.post('/api/documents', {
    data: { title: 'Inloggad via leverantören', markdown: 'Start' },
    headers: { 'X-Forankra-Request': '1' },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  await openDocument(page, id);
  await editor(page).locator('p').first().click();
  await page.keyboard.press('End');
  await page.keyboard.type(' och text från Anna');
  await expect
    .poll(async () => (await page.request.get(`/api/documents/${id}/text`)).text())
    .toContain('Start och text från Anna');
  await context.close();
});

/**
 * Text typed without a connection (issue 16): it is kept in the browser (IndexedDB), the
 * page says "Sparat lokalt" until the server has confirmed it, it survives closing the
 * tab, and it reaches the server and the other participants when the document is opened
 * again. The network is cut by routing the page's WebSockets through the test: while
 * "offline", open sockets are closed and new ones refused, as a dropped Wi-Fi would.
 */
import type { APIRequestContext, BrowserContext, WebSocketRoute } from '@playwright/test';
import {
  apiToken,
  bearer,
  editor,
  expect,
  expectNoAxeViolations,
  loggedInPage,
  openDocument,
  ownedDocument,
  test,
} from './fixtures';

/** The context's WebSockets, passed through to the server until `cut` is called. */
async function switchableNetwork(context: BrowserContext) {
  let offline = false;
  const open = new Set<WebSocketRoute>();
  await context.routeWebSocket(/\/ws\//, (ws) => {
    if (offline) {
      ws.close({ code: 1001, reason: 'offline' });
      return;
    }
    open.add(ws);
    ws.connectToServer();
    ws.onClose(() => open.delete(ws));
  });
  return {
    cut() {
      offline = true;
      for (const ws of open) ws.close({ code: 1001, reason: 'offline' });
      open.clear();
    },
    restore() {
      offline = false;
    },
  };
}

async function serverText(request: APIRequestContext, id: string): Promise<string> {
  const token = await apiToken(request, 'maria.holmberg');
  const response = await request.get(
    `/api/documents/${encodeURIComponent(id)}/text`,
    bearer(token),
  );
  expect(response.status()).toBe(200);
  return response.text();
}

test('text typed offline is kept through closing the tab and sent when the document opens again', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(request, `Offline ${Date.now()}`, 'Trygghet i skolan.');
  const maria = await loggedInPage(browser, 'maria.holmberg');
  const network = await switchableNetwork(maria.context);
  try {
    const page = maria.page;
    await openDocument(page, id);
    const saveState = page.getByTestId('save-state');
    await expect(saveState).toHaveAttribute('data-state', 'saved');

    network.cut();
    await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'reconnecting');
    const paragraph = editor(page).locator('p').first();
    await paragraph.click();
    await page.keyboard.press('End');
    await page.keyboard.type(' Skrivet utan nät.');
    await expect(paragraph).toHaveText('Trygghet i skolan. Skrivet utan nät.');
    await expect(saveState).toHaveAttribute('data-state', 'local');
    await expect(saveState).toContainText('Sparat lokalt');
    await expectNoAxeViolations(page, 'the page while offline');
    expect(await serverText(request, id)).not.toContain('Skrivet utan nät');

    // Closing the tab while still offline.
    await page.close();
    network.restore();

    const again = await maria.context.newPage();
    await openDocument(again, id);
    await expect(editor(again).locator('p').first()).toHaveText(
      'Trygghet i skolan. Skrivet utan nät.',
    );
    await expect(again.getByTestId('save-state')).toHaveAttribute('data-state', 'saved');
    expect(await serverText(request, id)).toContain('Trygghet i skolan. Skrivet utan nät.');
  } finally {
    await maria.context.close();
  }
});

test('a reader in another browser sees the text once it is sent, and signing out forgets saved copies', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(
    request,
    `Offline två ${Date.now()}`,
    'Belysning i parker.',
    'utbildningsforvaltningen',
  );
  const maria = await loggedInPage(browser, 'maria.holmberg');
  const sara = await loggedInPage(browser, 'sara.nyberg');
  const network = await switchableNetwork(maria.context);
  try {
    await openDocument(sara.page, id);
    await openDocument(maria.page, id);
    network.cut();
    const paragraph = editor(maria.page).locator('p').first();
    await paragraph.click();
    await maria.page.keyboard.press('End');
    await maria.page.keyboard.type(' Fler lampor.');
    await expect(maria.page.getByTestId('save-state')).toHaveAttribute('data-state', 'local');
    // Nothing reached the other browser while the connection was down.
    await expect(editor(sara.page).locator('p').first()).toHaveText('Belysning i parker.');

    network.restore();
    await expect(maria.page.getByTestId('save-state')).toHaveAttribute('data-state', 'saved');
    await expect(editor(sara.page).locator('p').first()).toContainText(
      'Belysning i parker. Fler lampor.',
    );

    const stored = async () =>
      maria.page.evaluate(async () =>
        (await indexedDB.databases())
          .map((d) => d.name)
          .filter((n) => n?.startsWith('forankra-doc:')),
      );
    expect(await stored()).toHaveLength(1);
    await maria.page.getByRole('button', { name: 'Logga ut' }).click();
    await expect(maria.page.getByRole('button', { name: 'Logga in' })).toBeVisible();
    await expect.poll(stored).toHaveLength(0);
  } finally {
    await maria.context.close();
    await sara.context.close();
  }
});

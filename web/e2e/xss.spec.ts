/**
 * Hostile text: markup and SQL typed into every text field an attacker can fill are
 * shown as text, never run. The test fails on any dialog (an `alert` that ran), on any
 * element the payloads would have made, and (through the fixtures) on any
 * Content-Security-Policy violation. It runs after threads.spec.ts because it adds a
 * thread to the demo document.
 */
import {
  apiToken,
  bearer,
  cspViolationsSeen,
  DEMO_DOC_ID,
  editor,
  expect,
  login,
  openDocument,
  test,
} from './fixtures';

const PAYLOADS = [
  '<img src=x onerror=alert(1)>',
  '<script>alert(2)</script>',
  "'); DROP TABLE threads; --",
] as const;
const ALL = PAYLOADS.join(' ');

test('markup and SQL in a title, imported Markdown, a comment and a motivation show as text and never run', async ({
  page,
  request,
}) => {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const owner = await apiToken(request, 'maria.holmberg');

  // A document whose title and imported Markdown (raw HTML included) carry the payloads.
  const title = `Fientlig ${ALL}`;
  const paragraph = `Stycke med ${ALL} i sig.`;
  const markdown = `${paragraph}\n\n<div onmouseover="alert(5)"><script>alert(6)</script></div>\n\n<img src=x onerror=alert(7)>\n`;
  const created = await request.post('/api/documents', {
    ...bearer(owner),
    data: { title, markdown },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };

  // A thread in the demo document, anchored where one of its threads is, with the
  // payloads in the comment, the reply and the resolution's motivation.
  const threadsUrl = `/api/documents/${DEMO_DOC_ID}/threads`;
  const existing = (await (await request.get(threadsUrl, bearer(owner))).json()) as {
    anchor: { start: string; end: string };
  }[];
  const anchor = existing[0]?.anchor;
  expect(anchor).toBeDefined();
  const opened = await request.post(threadsUrl, {
    ...bearer(owner),
    data: { anchor: { start: anchor?.start, end: anchor?.end }, body: `Kommentar ${ALL}` },
  });
  expect(opened.status()).toBe(201);
  const thread = (await opened.json()) as { id: string };
  const threadUrl = `${threadsUrl}/${thread.id}`;
  const replied = await request.post(`${threadUrl}/comments`, {
    ...bearer(owner),
    data: { body: `Svar ${ALL}` },
  });
  expect(replied.status()).toBe(201);
  const resolved = await request.post(`${threadUrl}/resolve`, {
    ...bearer(owner),
    data: { outcome: 'noterad', motivation: `Motivering ${ALL}` },
  });
  expect(resolved.status()).toBe(200);

  await login(page, 'maria.holmberg');
  await expect(page.getByText(title, { exact: true }).first()).toBeVisible();
  await openDocument(page, id);
  await expect(editor(page)).toContainText(paragraph);
  await expect(editor(page)).toContainText('<img src=x onerror=alert(7)>');
  await expect(page.getByText(title, { exact: true }).first()).toBeVisible();

  await openDocument(page, DEMO_DOC_ID);
  const card = page.getByTestId('thread').filter({ hasText: `Kommentar ${ALL}` });
  await expect(card).toBeVisible();
  await expect(card).toContainText(`Svar ${ALL}`);
  await expect(card.locator('.resolution__motivation')).toHaveText(`Motivering ${ALL}`);

  for (const selector of ['img[src="x"]', 'script:not([src])', '[onerror]', '[onmouseover]']) {
    await expect(page.locator(selector), selector).toHaveCount(0);
  }
  expect(dialogs).toEqual([]);
});

test('the Content-Security-Policy refuses an inline script', async ({ page }) => {
  await page.goto('/login');
  const ran = await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'document.body.dataset.inlineRan = "yes"';
    document.body.append(script);
    return document.body.dataset.inlineRan === 'yes';
  });
  expect(ran).toBe(false);
  await expect.poll(() => cspViolationsSeen().length).toBeGreaterThan(0);
  expect(cspViolationsSeen(true)).toEqual([expect.stringContaining('script-src')]);
});

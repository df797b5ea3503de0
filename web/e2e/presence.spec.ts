/**
 * Presence survives a reconnect (issue 16: "presence disappears for about 15 s after a
 * role change"). A changed role closes the person's socket (4100) and their page
 * reconnects at once; the others must see them again as soon as it has, not when the
 * awareness protocol next renews their state (every 15 s). Hence the explicit bound
 * below: the renewal would pass the default 15 s wait.
 */
import {
  apiToken,
  bearer,
  expect,
  loggedInPage,
  openDocument,
  ownedDocument,
  test,
} from './fixtures';

test('after a role change the person is back in the others’ presence list as soon as they reconnect', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(
    request,
    `Närvaro ${Date.now()}`,
    'Trygghet.',
    'utbildningsforvaltningen',
  );
  const maria = await loggedInPage(browser, 'maria.holmberg');
  const sara = await loggedInPage(browser, 'sara.nyberg');
  try {
    await openDocument(maria.page, id);
    await openDocument(sara.page, id);
    const presence = maria.page.getByTestId('presence');
    await expect(presence).toContainText('Sara Nyberg');

    const owner = await apiToken(request, 'maria.holmberg');
    const changed = await request.put(
      `/api/documents/${encodeURIComponent(id)}/members/utbildningsforvaltningen`,
      { ...bearer(owner), data: { role: 'editor' } },
    );
    expect(changed.ok()).toBe(true);
    // Sara's page learns its new role on reconnecting.
    await expect(sara.page.getByRole('button', { name: 'Föreslå ändringar' })).toBeVisible();
    await expect(sara.page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
    await expect(presence).toContainText('Sara Nyberg', { timeout: 5_000 });
    // And she sees Maria.
    await expect(sara.page.getByTestId('presence')).toContainText('Maria Holmberg', {
      timeout: 5_000,
    });
  } finally {
    await maria.context.close();
    await sara.context.close();
  }
});

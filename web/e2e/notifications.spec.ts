/**
 * The notification bell against the real server: an invitation made by the owners shows
 * in the invitee's bell with a link to the document, the bell opens and closes with the
 * keyboard, "mark all as read" brings the count to 0, and axe finds nothing on the open
 * list. (The bell refreshes on load, on focus and every minute; a reload stands in for
 * the focus here, since headless windows do not change focus.)
 */
import { apiToken, bearer, expect, expectNoAxeViolations, login, test } from './fixtures';

test('an invitation reaches the invitee’s bell, which opens by keyboard and marks all read', async ({
  page,
  request,
}) => {
  await login(page, 'helena.strand');
  const bell = page.getByRole('button', { name: /^Aviseringar, \d+ olästa$/ });
  await expect(bell).toBeVisible();

  const title = `Aviseringsprov ${Date.now()}`;
  const owner = await apiToken(request, 'maria.holmberg');
  const created = await request.post('/api/documents', {
    ...bearer(owner),
    data: { title, markdown: `# ${title}\n\nEtt stycke.` },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const invited = await request.put(`/api/documents/${id}/members/socialforvaltningen`, {
    ...bearer(owner),
    data: { role: 'commenter' },
  });
  expect(invited.ok()).toBe(true);

  await page.reload();
  await expect(bell).not.toHaveAccessibleName('Aviseringar, 0 olästa');
  await bell.focus();
  await page.keyboard.press('Enter');
  await expect(bell).toHaveAttribute('aria-expanded', 'true');
  const panel = page.locator('#notification-panel');
  const link = panel.getByRole('link', { name: new RegExp(`Inbjudan till remiss: ${title}`) });
  await expect(link).toHaveAttribute('href', `/d/${id}`);
  await expect(link).toContainText('Oläst');
  await expectNoAxeViolations(page, 'the open notification list');

  await page.keyboard.press('Escape');
  await expect(panel).toBeHidden();
  await expect(bell).toBeFocused();

  await bell.click();
  await panel.getByRole('button', { name: 'Markera alla som lästa' }).click();
  await expect(bell).toHaveAccessibleName('Aviseringar, 0 olästa');
  await expect(link).not.toContainText('Oläst');
});

test('the settings page keeps how each kind of notification reaches me, and an e-mail-less choice stops the bell for that kind', async ({
  page,
  request,
}) => {
  await login(page, 'helena.strand');
  await page.getByRole('navigation').getByRole('link', { name: 'Inställningar' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Inställningar' })).toBeFocused();
  const invitations = page.getByRole('group', { name: 'Inbjudan till en remiss' });
  await expect(invitations.getByRole('radio', { name: 'I appen och med e-post' })).toBeChecked();
  await expectNoAxeViolations(page, 'the settings page');

  // Not in the app: an invitation made now must not reach the bell.
  await invitations.getByRole('radio', { name: 'Bara med e-post' }).check();
  await expect(page.getByRole('main').getByRole('status')).toHaveText(
    'Sparat: Inbjudan till en remiss, Bara med e-post.',
  );
  await page.reload();
  await expect(
    page
      .getByRole('group', { name: 'Inbjudan till en remiss' })
      .getByRole('radio', { name: 'Bara med e-post' }),
  ).toBeChecked();

  const bell = page.getByRole('button', { name: /^Aviseringar, \d+ olästa$/ });
  const before = await bell.getAttribute('aria-label');
  const owner = await apiToken(request, 'maria.holmberg');
  const title = `Inställningsprov ${Date.now()}`;
  const created = await request.post('/api/documents', {
    ...bearer(owner),
    data: { title, markdown: `# ${title}\n\nEtt stycke.` },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const invited = await request.put(`/api/documents/${id}/members/socialforvaltningen`, {
    ...bearer(owner),
    data: { role: 'commenter' },
  });
  expect(invited.ok()).toBe(true);
  await page.reload();
  await expect(bell).toHaveAccessibleName(before ?? '');
  await bell.click();
  await expect(
    page.locator('#notification-panel').getByRole('link', { name: new RegExp(title) }),
  ).toHaveCount(0);

  // Back to the default, so other tests see the bell as before.
  await page.keyboard.press('Escape');
  await page
    .getByRole('group', { name: 'Inbjudan till en remiss' })
    .getByRole('radio', { name: 'I appen och med e-post' })
    .check();
  await expect(page.getByRole('main').getByRole('status')).toContainText('I appen och med e-post');
});

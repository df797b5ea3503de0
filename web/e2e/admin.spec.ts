/**
 * The administration page (issue 15): a demo administrator signs in, adds an
 * organisation and a user, maps an identity provider's claim value, and axe finds no
 * WCAG 2.1 A/AA violation on any of its tabs; the new user then signs in with the
 * password the administrator gave, sees no administration link, and changes it.
 */
import { expect, expectNoAxeViolations, login, test } from './fixtures';

test('an administrator adds an organisation and a user and maps a claim value', async ({
  page,
  browser,
  baseURL,
}) => {
  await login(page, 'maria.holmberg');
  await page
    .getByRole('navigation', { name: 'Huvudmeny' })
    .getByRole('link', { name: 'Administration' })
    .click();
  await expect(page.getByRole('heading', { level: 1, name: 'Administration' })).toBeVisible();
  const orgs = page.getByRole('tabpanel', { name: 'Organisationer' });
  await expect(orgs.getByRole('table')).toContainText('Stadsledningskontoret');
  await expectNoAxeViolations(page, 'the administration page (organisations)');

  // A new organisation.
  const addOrg = page.getByRole('form', { name: 'Lägg till en organisation' });
  await addOrg.getByLabel('Id', { exact: true }).fill('miljoforvaltningen');
  await addOrg.getByLabel('Namn', { exact: true }).fill('Miljöförvaltningen');
  await addOrg.getByRole('button', { name: 'Lägg till organisationen' }).click();
  await expect(
    page.getByRole('status').filter({ hasText: 'Miljöförvaltningen är tillagd' }),
  ).toBeVisible();
  await expect(orgs.getByRole('rowheader', { name: 'Miljöförvaltningen' })).toBeVisible();

  // A user of it, with a password; chosen with the keyboard, as the tabs pattern says.
  await page.getByRole('tab', { name: 'Organisationer' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Användare' })).toHaveAttribute(
    'aria-selected',
    'true',
  );
  const users = page.getByRole('tabpanel', { name: 'Användare' });
  await expect(users.getByRole('rowheader', { name: 'Maria Holmberg' })).toBeVisible();
  const addUser = page.getByRole('form', { name: 'Lägg till en användare' });
  await addUser.getByLabel('Id (inloggningsnamn)').fill('lena.ek');
  await addUser.getByLabel('Namn', { exact: true }).fill('Lena Ek');
  await addUser.getByLabel('E-post', { exact: true }).fill('lena.ek@stad.example.se');
  await addUser
    .getByLabel('Organisation', { exact: true })
    .selectOption({ label: 'Miljöförvaltningen' });
  await addUser.getByLabel('Lösenord (valfritt)').fill('kort');
  await addUser.getByRole('button', { name: 'Lägg till användaren' }).click();
  await expect(addUser.getByRole('alert')).toContainText('minst 10 tecken');
  await addUser.getByLabel('Lösenord (valfritt)').fill('en lång lösenfras');
  await addUser.getByRole('button', { name: 'Lägg till användaren' }).click();
  const lena = users
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: 'Lena Ek' }) });
  await expect(lena).toContainText('Miljöförvaltningen');
  await expect(lena).toContainText('lena.ek@stad.example.se');
  await expect(lena.getByRole('button', { name: 'Inaktivera Lena Ek' })).toBeVisible();
  await expectNoAxeViolations(page, 'the administration page (users)');

  // The last administrator cannot step down.
  await users
    .getByRole('button', { name: 'Ta bort administratörsrollen från Maria Holmberg' })
    .click();
  await expect(users.getByRole('alert')).toContainText('sista aktiva administratören');

  // A claim value of an identity provider stands for the new organisation.
  await page.getByRole('tab', { name: 'Organisationsmappning' }).click();
  const mappings = page.getByRole('tabpanel', { name: 'Organisationsmappning' });
  const addMapping = page.getByRole('form', { name: 'Mappa ett värde till en organisation' });
  await addMapping.getByLabel('Identitetsleverantör').fill('https://login.stad.example');
  await addMapping.getByLabel('Värde', { exact: true }).fill('Miljöförvaltningen');
  await addMapping
    .getByLabel('Organisation', { exact: true })
    .selectOption({ label: 'Miljöförvaltningen' });
  await addMapping.getByRole('button', { name: 'Spara mappningen' }).click();
  await expect(mappings.getByRole('rowheader', { name: 'Miljöförvaltningen' })).toBeVisible();
  await expect(
    mappings.getByRole('button', { name: 'Ta bort mappningen av Miljöförvaltningen' }),
  ).toBeVisible();
  await expectNoAxeViolations(page, 'the administration page (mapping)');
  await expect(page.getByRole('table').last()).toContainText('mapping.set');

  // The new user signs in with the given password; no administration for her.
  const context = await browser.newContext({ baseURL });
  try {
    const hers = await context.newPage();
    await hers.goto('/login');
    await hers.getByLabel('Användarnamn').fill('lena.ek');
    await hers.getByLabel('Lösenord').fill('en lång lösenfras');
    await hers.getByRole('button', { name: 'Logga in' }).click();
    const nav = hers.getByRole('navigation', { name: 'Huvudmeny' });
    await expect(nav.getByRole('link', { name: 'Byt lösenord' })).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Administration' })).toHaveCount(0);
    await nav.getByRole('link', { name: 'Byt lösenord' }).click();
    await hers.getByLabel('Nuvarande lösenord').fill('fel lösenord');
    await hers.getByLabel('Nytt lösenord', { exact: true }).fill('mitt eget lösenord');
    await hers.getByLabel('Upprepa det nya lösenordet').fill('mitt eget lösenord');
    await hers.getByRole('button', { name: 'Byt lösenord' }).click();
    await expect(hers.getByRole('alert')).toContainText('stämmer inte');
    await hers.getByLabel('Nuvarande lösenord').fill('en lång lösenfras');
    await hers.getByRole('button', { name: 'Byt lösenord' }).click();
    await expect(hers.getByRole('status').filter({ hasText: 'Lösenordet är bytt' })).toBeVisible();
    await expectNoAxeViolations(hers, 'the change-password page');
  } finally {
    await context.close();
  }
});

/**
 * Suggestions required by phase (issue 16): an owner sets in the Remiss tab that changes
 * must be suggested in the phase remiss; when the round moves to remiss, an editor's open
 * page keeps suggesting mode on, the switch locked with the owners' reason, live (no
 * reload); lifting the rule frees it again. axe on the new controls and the locked switch.
 */
import type { Locator, Page } from '@playwright/test';
import {
  apiToken,
  bearer,
  expect,
  expectNoAxeViolations,
  loggedInPage,
  openDocument,
  ownedDocument,
  test,
} from './fixtures';

const TEXT = 'Arbetsmarknadsinsatser ska nå fler unga.\n';
const EDITOR_ORG = 'socialforvaltningen';

async function openRemissTab(page: Page): Promise<Locator> {
  await page.getByRole('tab', { name: 'Remiss' }).click();
  const panel = page.getByTestId('remiss-panel');
  await expect(panel).toBeVisible();
  return panel;
}

async function setPhase(panel: Locator, label: string): Promise<void> {
  const round = panel.getByTestId('round-form');
  await round.getByLabel('Fas').selectOption({ label });
  await round.getByRole('button', { name: 'Spara remissomgången' }).click();
  await expect(panel.getByTestId('round-facts')).toContainText(label);
}

test('owners require suggestions in remiss; an editor’s page locks suggesting mode on, live', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(request, `Kräv förslag ${Date.now()}`, TEXT);
  const owner = await apiToken(request, 'maria.holmberg');
  const invited = await request.put(
    `/api/documents/${encodeURIComponent(id)}/members/${EDITOR_ORG}`,
    { ...bearer(owner), data: { role: 'editor' } },
  );
  expect(invited.ok()).toBe(true);
  const maria = await loggedInPage(browser, 'maria.holmberg');
  const helena = await loggedInPage(browser, 'helena.strand');
  try {
    await openDocument(maria.page, id);
    await openDocument(helena.page, id);
    const toggle = helena.page.getByTestId('suggest-mode');
    await expect(toggle).toHaveAttribute('aria-pressed', 'false');
    await expect(toggle).not.toHaveAttribute('aria-disabled', 'true');

    // The owner requires suggestions in remiss, with the keyboard: not in force yet.
    const panel = await openRemissTab(maria.page);
    const rule = panel.getByTestId('rule-form');
    const remissBox = rule.getByLabel('Remiss', { exact: true });
    await remissBox.focus();
    await maria.page.keyboard.press('Space');
    await expect(remissBox).toBeChecked();
    await rule.getByRole('button', { name: 'Spara kravet på förslag' }).click();
    await expect(panel.getByTestId('round-suggestion-rule')).toHaveText(
      'Ägarna kräver att ändringar föreslås i faserna: remiss. Det gäller inte nu.',
    );
    await expect(toggle).not.toHaveAttribute('aria-disabled', 'true');
    await expectNoAxeViolations(maria.page, 'the Remiss tab with the suggestion rule');

    // The round moves to remiss: the editor's open page locks suggesting mode on.
    await setPhase(panel, 'Remiss');
    await expect(toggle).toHaveAttribute('aria-pressed', 'true');
    await expect(toggle).toHaveAttribute('aria-disabled', 'true');
    const lock = helena.page.getByTestId('suggest-lock');
    await expect(lock).toHaveText('Ägarna kräver att ändringar föreslås i fasen remiss.');
    await expect(toggle).toHaveAccessibleDescription(
      'Ägarna kräver att ändringar föreslås i fasen remiss.',
    );
    // Still focusable (aria-disabled, so its reason is read out); pressing it changes nothing.
    await toggle.focus();
    await helena.page.keyboard.press('Enter');
    await expect(toggle).toHaveAttribute('aria-pressed', 'true');
    await expect(helena.page.locator('#document-readonly-note')).toHaveAttribute(
      'data-reason',
      'suggesting',
    );
    await expectNoAxeViolations(helena.page, 'an editor’s page while suggestions are required');
    // The owner's own page went to suggesting mode too, and the owner may leave it.
    const ownerToggle = maria.page.getByTestId('suggest-mode');
    await expect(ownerToggle).toHaveAttribute('aria-pressed', 'true');
    await expect(ownerToggle).not.toHaveAttribute('aria-disabled', 'true');

    // Lifting the rule frees the editor's switch, live.
    await remissBox.uncheck();
    await rule.getByRole('button', { name: 'Spara kravet på förslag' }).click();
    await expect(panel.getByTestId('round-suggestion-rule')).toHaveText(
      'Ändringar behöver inte föreslås i någon fas.',
    );
    await expect(toggle).not.toHaveAttribute('aria-disabled', 'true');
    await expect(lock).toBeHidden();
  } finally {
    await maria.context.close();
    await helena.context.close();
  }
});

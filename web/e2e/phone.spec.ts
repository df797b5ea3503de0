/**
 * The phone layout (issue 16): on a 390 × 844 screen, the pages a förvaltning official
 * uses reflow to the width (WCAG 1.4.10: no sideways scrolling at 320 CSS px equivalents),
 * the editor's toolbar stays in reach, and axe finds nothing.
 */
import type { Page } from '@playwright/test';
import {
  DEMO_DOC_ID,
  editor,
  expect,
  expectNoAxeViolations,
  login,
  openDocument,
  test,
} from './fixtures';

test.use({ viewport: { width: 390, height: 844 }, hasTouch: true });

/** How far the page reaches past the screen's right edge, in CSS pixels. */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

test('on a phone the list, the draft and the remiss tab fit the screen', async ({ page }) => {
  await login(page, 'helena.strand');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  expect(await overflow(page), 'the document list scrolls sideways').toBeLessThanOrEqual(0);

  await openDocument(page, DEMO_DOC_ID);
  await expect(page.getByTestId('connection')).toHaveText(/Ansluten/);
  expect(await overflow(page), 'the draft scrolls sideways').toBeLessThanOrEqual(0);
  const toolbar = page.getByRole('toolbar', { name: 'Textformat' });
  await editor(page).getByRole('heading', { name: 'Inledning' }).scrollIntoViewIfNeeded();
  await expect(toolbar).toBeInViewport();
  await expectNoAxeViolations(page, 'the draft on a phone');

  await page.getByRole('tab', { name: 'Remiss' }).click();
  await expect(page.getByRole('tabpanel')).toBeVisible();
  expect(await overflow(page), 'the remiss tab scrolls sideways').toBeLessThanOrEqual(0);
  await expectNoAxeViolations(page, 'the remiss tab on a phone');
});

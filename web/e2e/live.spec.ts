/**
 * Live state against the real server (issue 17), in two browser contexts and without a
 * reload: the bell on the document list counts up and announces when another
 * organisation replies; the Remiss tab's invitee table and phase follow changes made
 * elsewhere; and an invitee writing a comment when the owners close the round is told at
 * once, the form stops, and the text stays. axe on each changed view.
 */
import type { Page } from '@playwright/test';
import {
  apiToken,
  bearer,
  expect,
  expectNoAxeViolations,
  loggedInPage,
  openDocument,
  ownedDocument,
  selectParagraphStart,
  test,
} from './fixtures';

const TEXT = 'Första stycket handlar om trygghet i skolan.\n\nAndra stycket gäller perioden.\n';

/** Selects the first words of paragraph `index` (the title is 0) and opens the form. */
async function startComment(page: Page, index: number, words: string): Promise<void> {
  await selectParagraphStart(page, index, words);
  await page.keyboard.press('Control+Alt+M');
  await expect(page.getByTestId('compose')).toBeVisible();
}

test('the bell counts up live when another organisation replies', async ({ browser, request }) => {
  const title = `Klocka ${Date.now()}`;
  const id = await ownedDocument(request, title, TEXT, 'utbildningsforvaltningen');
  const sara = await loggedInPage(browser, 'sara.nyberg');
  try {
    await openDocument(sara.page, id);
    await startComment(sara.page, 1, 'Första stycket');
    const compose = sara.page.getByTestId('compose');
    await compose.getByLabel('Kommentar', { exact: true }).fill('Skolan bör inte komma först.');
    await compose.getByRole('button', { name: 'Skicka kommentar' }).click();
    await expect(compose).toHaveCount(0);

    // To the document list, which has no document socket: only the bell's stream.
    await sara.page.getByRole('navigation').getByRole('link', { name: 'Dokument' }).click();
    await expect(sara.page.getByRole('heading', { level: 1, name: 'Dokument' })).toBeVisible();
    const bell = sara.page.getByRole('button', { name: /^Aviseringar, \d+ olästa$/ });
    const before = Number((await bell.getAttribute('aria-label'))?.match(/\d+/)?.[0]);

    const owner = await apiToken(request, 'maria.holmberg');
    const threads = await request.get(`/api/documents/${id}/threads`, bearer(owner));
    const [thread] = (await threads.json()) as { id: string }[];
    const replied = await request.post(`/api/documents/${id}/threads/${thread?.id}/comments`, {
      ...bearer(owner),
      data: { body: 'Vi flyttar stycket.' },
    });
    expect(replied.status()).toBe(201);

    await expect(bell).toHaveAccessibleName(`Aviseringar, ${before + 1} olästa`);
    await expect(sara.page.getByTestId('live-region')).toContainText(
      `Ny avisering: Maria Holmberg svarade i en tråd i ${title}`,
    );
    await bell.click();
    await expect(
      sara.page
        .locator('#notification-panel')
        .getByRole('link', { name: new RegExp(`svarade i en tråd i ${title}`) }),
    ).toHaveCount(1);
    await expectNoAxeViolations(
      sara.page,
      'the document list with the bell open after a live update',
    );
  } finally {
    await sara.context.close();
  }
});

test('the Remiss tab follows answers and phase live; closing the round stops an open comment form and keeps its text', async ({
  browser,
  request,
}) => {
  const id = await ownedDocument(
    request,
    `Levande ${Date.now()}`,
    TEXT,
    'utbildningsforvaltningen',
  );
  const owner = await apiToken(request, 'maria.holmberg');
  const round = (data: Record<string, unknown>) =>
    request.put(`/api/documents/${id}/remiss`, { ...bearer(owner), data });
  expect((await round({ phase: 'remiss', deadline: '2099-12-31' })).status()).toBe(200);

  const maria = await loggedInPage(browser, 'maria.holmberg');
  const sara = await loggedInPage(browser, 'sara.nyberg');
  try {
    await openDocument(maria.page, id);
    await maria.page.getByRole('tab', { name: 'Remiss' }).click();
    const panel = maria.page.getByTestId('remiss-panel');
    const status = panel
      .getByTestId('invitees')
      .getByRole('row', { name: /Utbildningsförvaltningen/ })
      .getByTestId('invitee-status');
    await expect(status).toHaveText('Inbjuden');
    await openDocument(sara.page, id);

    // Sara's organisation declines through the API: Maria's table follows, no refresh.
    const saraToken = await apiToken(request, 'sara.nyberg');
    const declined = await request.post(`/api/documents/${id}/remiss/response`, {
      ...bearer(saraToken),
      data: { status: 'declined' },
    });
    expect(declined.status()).toBe(200);
    await expect(status).toHaveText('Avstår');

    // Sara writes a comment; the owners close the round meanwhile.
    await startComment(sara.page, 1, 'Första stycket');
    const compose = sara.page.getByTestId('compose');
    const body = compose.getByLabel('Kommentar', { exact: true });
    await body.fill('Ett halvskrivet förslag om skolan.');
    expect((await round({ phase: 'avslutad' })).status()).toBe(200);

    await expect(sara.page.getByTestId('comments-margin').getByRole('status')).toHaveText(
      /^Remissen är stängd nu/,
    );
    await expect(compose).toContainText('Remissen stängdes medan du skrev.');
    await expect(body).toHaveValue('Ett halvskrivet förslag om skolan.');
    await expect(body).not.toBeEditable();
    await expect(compose.getByRole('button', { name: 'Skicka kommentar' })).toBeDisabled();
    await expectNoAxeViolations(sara.page, 'the closed comment form');

    await expect(panel.getByTestId('round-facts')).toContainText('Avslutad');
    await expect(panel.getByTestId('round-openness')).toHaveText(
      'Remissen är avslutad: nya synpunkter tas inte emot.',
    );
    await expectNoAxeViolations(maria.page, 'the Remiss tab after a live change');
  } finally {
    await maria.context.close();
    await sara.context.close();
  }
});

/**
 * Small pieces the sections of the Remiss panel share: a titled section, a status line
 * that is also announced, dates that may be missing, and calendar dates.
 */
import { announce } from '../app/announce';
import { h, srOnly, uid } from '../dom';
import { formatDateTime, locale, type MessageKey, t } from '../i18n';

export interface Part {
  el: HTMLElement;
  destroy?(): void;
}

/** A `section` labelled by its `h2`. */
export function section(
  testId: string,
  title: MessageKey,
  ...children: (Node | null | false)[]
): HTMLElement {
  const id = uid(`${testId}-heading`);
  return h(
    'section',
    { class: 'remiss-section', 'aria-labelledby': id, 'data-testid': testId },
    h('h2', { id }, t(title)),
    ...children,
  );
}

/**
 * The box a wide table scrolls in on a narrow screen. A box that scrolls must be
 * reachable by keyboard (WCAG 2.1.1), so it takes focus, and as a region named after its
 * section it says what it holds when it does.
 */
export function tableWrap(label: MessageKey): HTMLElement {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t(label) });
}

/** A line saying how an action went: shown, and read out politely. */
export function statusLine(): {
  el: HTMLElement;
  ok(text: string): void;
  fail(text: string): void;
} {
  const el = h('p', { class: 'remiss-status', role: 'status' });
  return {
    el,
    ok(text) {
      el.className = 'remiss-status remiss-status--ok';
      el.textContent = text;
      announce(text);
    },
    fail(text) {
      el.className = 'remiss-status remiss-status--error';
      el.textContent = text;
    },
  };
}

/** A time, or a dash read out as "not yet". */
export function timeOrDash(epochMs: number | null | undefined): Node {
  if (epochMs === null || epochMs === undefined) {
    return h('span', {}, h('span', { 'aria-hidden': 'true' }, '–'), srOnly(t('remiss.notYet')));
  }
  return h('time', { datetime: new Date(epochMs).toISOString() }, formatDateTime(epochMs));
}

/** `2020-11-30` as "30 nov. 2020" (a calendar date: no time zone shifts it). */
export function formatCalendarDate(date: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return date;
  const [, y, m, d] = match;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(
    new Date(Number(y), Number(m) - 1, Number(d)),
  );
}

/** Today in Stockholm as `YYYY-MM-DD`. */
export function todayInStockholm(): string {
  return new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Stockholm',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date());
}

/** A data table: hidden caption, column headers, and the rows given. */
export function dataTable(
  testId: string | null,
  caption: string,
  columns: MessageKey[],
  rows: HTMLElement[],
  className = '',
): HTMLElement {
  return h(
    'table',
    { class: `table table--compact ${className}`.trim(), 'data-testid': testId },
    h('caption', { class: 'visually-hidden' }, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((key) => h('th', { scope: 'col' }, t(key))),
      ),
    ),
    h('tbody', {}, rows),
  );
}

/** A small button with a fuller accessible name (e.g. naming the row it acts on). */
export function actionButton(
  text: string,
  label: string,
  onClick: (button: HTMLButtonElement) => void,
  className = 'button button--small',
): HTMLButtonElement {
  const button = h('button', { type: 'button', class: className, 'aria-label': label }, text);
  button.addEventListener('click', () => onClick(button));
  return button;
}

/**
 * Fills `slot` with a titled region (a version's text, a diff, deliveries) that takes
 * focus, and whose "Stäng" empties the slot and returns focus to `returnTo`.
 */
export function openRegion(
  slot: HTMLElement,
  testId: string,
  title: string,
  returnTo: HTMLElement,
  ...content: (Node | null)[]
): void {
  const id = uid(`${testId}-heading`);
  const heading = h('h3', { id, tabindex: '-1' }, title);
  const close = h(
    'button',
    { type: 'button', class: 'button button--small' },
    t('remiss.versions.close'),
  );
  close.addEventListener('click', () => {
    slot.replaceChildren();
    returnTo.focus();
  });
  slot.replaceChildren(
    h(
      'div',
      { class: 'panel', role: 'region', 'aria-labelledby': id, 'data-testid': testId },
      h('div', { class: 'panel__head' }, heading, close),
      ...content,
    ),
  );
  heading.focus();
}

/** The primary submit button of a form. */
export function submitButton(text: MessageKey): HTMLButtonElement {
  return h('button', { type: 'submit', class: 'button button--primary button--small' }, t(text));
}

/** A control with its label above it (and a hint between, when given). */
export function labelled(
  id: string,
  label: MessageKey,
  control: HTMLElement,
  hint?: { id: string; text: MessageKey },
): HTMLElement {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id, class: 'field__label' }, t(label)),
    hint ? h('p', { id: hint.id, class: 'field__hint' }, t(hint.text)) : null,
    control,
  );
}

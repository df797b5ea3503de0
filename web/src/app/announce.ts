/**
 * One polite live region for the whole app: connection changes, people joining and
 * leaving, saved changes, new comments and notifications. It lives outside the views, so
 * re-rendering a view never removes it (a live region must exist before its text changes
 * to be read).
 *
 * Each message is added as a node of its own and read as an addition, then removed a
 * while later. Replacing the region's text instead let a later message overwrite an
 * earlier one before it was read: a reply arriving as a live comment and as a new
 * notification moments apart was only announced as the second.
 */

/** How long a message stays in the region after it was added. */
const KEEP_MS = 10_000;

let region: HTMLElement | null = null;
let pending: number | null = null;
let queued: string[] = [];

export function mountLiveRegion(el: HTMLElement): void {
  region = el;
  el.setAttribute('aria-atomic', 'false');
  el.setAttribute('aria-relevant', 'additions');
}

/**
 * Says `message` to screen-reader users without moving focus. Messages said in the same
 * frame are read together; a repeated message is read again (it is a new node).
 */
export function announce(message: string): void {
  if (!region || !message) return;
  const target = region;
  queued.push(message);
  if (pending !== null) return;
  pending = requestAnimationFrame(() => {
    pending = null;
    const said = document.createElement('p');
    said.textContent = queued.join(' ');
    queued = [];
    target.append(said);
    window.setTimeout(() => said.remove(), KEEP_MS);
  });
}

/**
 * One polite live region for the whole app: connection changes, people joining and
 * leaving, saved changes. It lives outside the views, so re-rendering a view never
 * removes it (a live region must exist before its text changes to be read).
 */

let region: HTMLElement | null = null;
let pending: number | null = null;
let queued: string[] = [];

export function mountLiveRegion(el: HTMLElement): void {
  region = el;
}

/**
 * Says `message` to screen-reader users without moving focus. Messages said in the same
 * frame are read together; a repeated message is read again (the region is cleared first).
 */
export function announce(message: string): void {
  if (!region || !message) return;
  const target = region;
  queued.push(message);
  if (pending !== null) return;
  target.textContent = '';
  pending = requestAnimationFrame(() => {
    pending = null;
    target.textContent = queued.join(' ');
    queued = [];
  });
}

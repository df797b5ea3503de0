/**
 * Keeps the comment cards beside their text. On a wide screen (the two-column layout,
 * down to a 1280 px laptop at 125 % zoom) each card is placed at the top of its anchored
 * text, or just below the card before it when that one is in the way:
 * `top = max(anchor top, previous bottom + gap)`. On a narrow screen the cards are a
 * plain list after the text. Placement runs at most once a frame, after the text
 * changes, the window or a card changes size, or the threads change.
 */

/** One thing to place: its element and the viewport top of its text (null: unknown). */
export interface MarginItem {
  el: HTMLElement;
  anchorTop: number | null;
}

/** Space between two cards, in CSS pixels. */
export const CARD_GAP = 8;

/** The media query of the two-column layout (as in app.css). */
export const ALIGNED_MEDIA = '(min-width: 60rem)';

/**
 * Tops for items of the given heights wanting the given tops (relative to the track),
 * in that order: each at its wish, or just below the one before.
 */
export function placeItems(wishes: (number | null)[], heights: number[], gap: number): number[] {
  const tops: number[] = [];
  let floor = 0;
  wishes.forEach((wish, i) => {
    const top = Math.max(wish ?? floor, floor);
    tops.push(top);
    floor = top + (heights[i] ?? 0) + gap;
  });
  return tops;
}

export class MarginLayout {
  private frame: number | null = null;
  private readonly media = window.matchMedia(ALIGNED_MEDIA);
  private readonly resize = new ResizeObserver(() => this.schedule());
  private readonly onChange = () => this.schedule();

  /**
   * @param track the positioned container of the items
   * @param items the items to place now, each with the viewport top of its text
   */
  constructor(
    private readonly track: HTMLElement,
    private readonly items: () => MarginItem[],
  ) {
    this.media.addEventListener('change', this.onChange);
    window.addEventListener('resize', this.onChange);
    void document.fonts?.ready.then(this.onChange);
  }

  get aligned(): boolean {
    return this.media.matches;
  }

  /** Places again when `el` changes size (a card opens, a reply arrives). */
  observe(el: Element): void {
    this.resize.observe(el);
  }

  unobserve(el: Element): void {
    this.resize.unobserve(el);
  }

  schedule(): void {
    if (this.frame !== null) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.place();
    });
  }

  destroy(): void {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    this.media.removeEventListener('change', this.onChange);
    window.removeEventListener('resize', this.onChange);
  }

  private place(): void {
    if (!this.track.isConnected) return;
    const items = this.items();
    if (!this.aligned) {
      this.track.dataset.layout = 'list';
      this.track.style.height = '';
      for (const { el } of items) el.style.top = '';
      return;
    }
    this.track.dataset.layout = 'aligned';
    // Read everything first, then write: one layout pass.
    const origin = this.track.getBoundingClientRect().top;
    const ordered = items
      .map((item, index) => ({ ...item, index }))
      .sort(
        (a, b) =>
          (a.anchorTop ?? Number.NEGATIVE_INFINITY) - (b.anchorTop ?? Number.NEGATIVE_INFINITY) ||
          a.index - b.index,
      );
    const heights = ordered.map(({ el }) => el.offsetHeight);
    const wishes = ordered.map(({ anchorTop }) => (anchorTop === null ? null : anchorTop - origin));
    const tops = placeItems(wishes, heights, CARD_GAP);
    ordered.forEach(({ el }, i) => {
      el.style.top = `${Math.round(tops[i] ?? 0)}px`;
    });
    const last = ordered.length - 1;
    const bottom = last >= 0 ? (tops[last] ?? 0) + (heights[last] ?? 0) : 0;
    this.track.style.height = `${Math.ceil(bottom)}px`;
  }
}

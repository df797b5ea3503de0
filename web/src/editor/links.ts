/**
 * Which link addresses the editor accepts: http, https and mailto, and addresses within
 * the site (`/…`, `#…`, `?…`). The server's read-outs apply the same rule
 * (`documents::markdown::href`), so a `javascript:` link a hostile client stores is
 * never shown as a link anywhere.
 */
const SAFE_SCHEMES = ['http', 'https', 'mailto'];

/**
 * Whether `href` is safe to keep as a link. Browsers ignore whitespace and control
 * characters inside a URL (`java\tscript:`), so they are ignored here too, and a colon
 * before any `/`, `?` or `#` counts as a scheme even when it is not a valid one.
 */
export function isSafeHref(href: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we strip
  const cleaned = href.replace(/[\s\u0000-\u001f\u007f-\u009f]/g, '');
  if (!cleaned) return false;
  const end = cleaned.search(/[:/?#]/);
  if (end < 0 || cleaned[end] !== ':') return true;
  return SAFE_SCHEMES.includes(cleaned.slice(0, end).toLowerCase());
}

/**
 * The address a person typed, made into a link: `www.example.se` gets `https://`, an
 * e-mail address gets `mailto:`; null when the address uses a scheme we refuse.
 */
export function normalizeHref(typed: string): string | null {
  const href = typed.trim();
  if (!href) return null;
  if (/^[^\s@/:]+@[^\s@/:]+\.[^\s@/:]+$/.test(href)) return `mailto:${href}`;
  const hasScheme = /^[a-z][a-z0-9+.-]*:/i.test(href);
  const candidate = hasScheme || /^[/?#]/.test(href) ? href : `https://${href}`;
  return isSafeHref(candidate) ? candidate : null;
}

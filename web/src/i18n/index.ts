/**
 * The UI language: Swedish by default, English on request. The choice persists in
 * localStorage (it is a preference, not a secret) and `<html lang>` follows it.
 * Views re-render on a change (`onLanguageChange`); the live editor session survives that.
 */
import { en } from './en';
import { type MessageKey, type Messages, sv } from './sv';

export type { MessageKey } from './sv';
export type Language = 'sv' | 'en';

export const LANGUAGES: readonly Language[] = ['sv', 'en'];
/** Each language's own name, shown in that language. */
export const LANGUAGE_NAMES: Record<Language, string> = { sv: 'Svenska', en: 'English' };

const STORAGE_KEY = 'forankra.language';
const CATALOGS: Record<Language, Messages> = { sv, en };

let current: Language = readStored();
const listeners = new Set<(lang: Language) => void>();

function readStored(): Language {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return stored === 'en' ? 'en' : 'sv';
  } catch {
    return 'sv';
  }
}

export function language(): Language {
  return current;
}

/** BCP 47 tag for `Intl` formatting. */
export function locale(): string {
  return current === 'sv' ? 'sv-SE' : 'en-GB';
}

export function setLanguage(lang: Language): void {
  if (lang === current) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  applyDocumentLanguage();
  for (const listener of listeners) listener(lang);
}

export function onLanguageChange(listener: (lang: Language) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function applyDocumentLanguage(): void {
  document.documentElement.lang = current;
}

/** The message for `key` in the current language, with `{param}`s filled in. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const template = CATALOGS[current][key];
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/**
 * The message for a count. English says "1 reply" but "2 replies", so a key may have a
 * `.one` form, used where the language's plural rule (`Intl.PluralRules`) says "one".
 */
export function tCount(key: MessageKey, count: number): string {
  const one = `${key}.one`;
  const single = new Intl.PluralRules(locale()).select(count) === 'one';
  const chosen = single && one in CATALOGS[current] ? (one as MessageKey) : key;
  return t(chosen, { count });
}

export function formatDateTime(epochMs: number): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(
    new Date(epochMs),
  );
}

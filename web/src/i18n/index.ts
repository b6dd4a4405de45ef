import en from './en.json';
import zhCN from './zh-CN.json';

export type Locale = 'en' | 'zh-CN';
export type MsgKey = keyof typeof en;

export const LOCALES: readonly { id: Locale; name: string }[] = [
  { id: 'en', name: 'English' },
  { id: 'zh-CN', name: '简体中文' },
];

// Copies, so that views loaded later can add their strings (`addMessages`) without touching the imports.
const TABLES: Record<Locale, Record<string, string>> = { en: { ...en }, 'zh-CN': { ...zhCN } };

/** Adds the strings of a view loaded on demand (see i18n/mod.ts), in every language. */
export function addMessages(tables: Record<Locale, Record<string, string>>): void {
  for (const id of Object.keys(tables) as Locale[]) Object.assign(TABLES[id], tables[id]);
}

let current: Locale = 'en';

export function detectLocale(): Locale {
  const langs = typeof navigator === 'undefined' ? [] : (navigator.languages ?? [navigator.language]);
  return langs.some((l) => /^zh\b/i.test(l)) ? 'zh-CN' : 'en';
}

export function setLocale(locale: Locale): void {
  current = locale;
  document.documentElement.lang = locale;
}

export function getLocale(): Locale {
  return current;
}

/**
 * The string for `key` in the current language (English if missing), with `{name}` placeholders filled.
 * Counted strings use `key_one` / `key_other` variants when `count` is given and they exist.
 */
export function t(key: MsgKey, params?: Record<string, string | number>): string {
  return translate(key, params);
}

/** `t` for any key, including those added with `addMessages` (typed wrappers: `t`, and `tm` in i18n/mod.ts). */
export function translate(key: string, params?: Record<string, string | number>): string {
  let k = key;
  if (params && typeof params.count === 'number') {
    const variant = `${key}_${params.count === 1 ? 'one' : 'other'}`;
    if (variant in TABLES.en) k = variant;
  }
  const text = TABLES[current][k] ?? TABLES.en[k] ?? k;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

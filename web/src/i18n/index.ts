import en from './en.json';
import zhCN from './zh-CN.json';

export type Locale = 'en' | 'zh-CN';
export type MsgKey = keyof typeof en;

export const LOCALES: readonly { id: Locale; name: string }[] = [
  { id: 'en', name: 'English' },
  { id: 'zh-CN', name: '简体中文' },
];

const TABLES: Record<Locale, Partial<Record<MsgKey, string>>> = { en, 'zh-CN': zhCN };

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
  let k: string = key;
  if (params && typeof params.count === 'number') {
    const variant = `${key}_${params.count === 1 ? 'one' : 'other'}`;
    if (variant in en) k = variant;
  }
  const table = TABLES[current] as Record<string, string | undefined>;
  const text = table[k] ?? (en as Record<string, string>)[k] ?? k;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

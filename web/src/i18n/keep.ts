/**
 * Strings of keeping and leaving (issue 18): account deletion and data export in settings, the password reset page,
 * the admin's reset links. Importing this module adds them to the tables `t` reads; use `tk` for these keys.
 */
import { addMessages, translate } from './index.js';
import en from './keep.en.json';
import zhCN from './keep.zh-CN.json';

addMessages({ en, 'zh-CN': zhCN });

export type KeepKey = keyof typeof en;

export function tk(key: KeepKey, params?: Record<string, string | number>): string {
  return translate(key, params);
}

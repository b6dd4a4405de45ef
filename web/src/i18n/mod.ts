/**
 * Strings of the moderation and admin views. They load with those views (not in the initial bundle): importing
 * this module adds them to the tables `t` reads. Use `tm` for these keys and `t` for the shared ones.
 */
import { addMessages, translate } from './index.js';
import en from './mod.en.json';
import zhCN from './mod.zh-CN.json';

addMessages({ en, 'zh-CN': zhCN });

export type ModKey = keyof typeof en;

export function tm(key: ModKey, params?: Record<string, string | number>): string {
  return translate(key, params);
}

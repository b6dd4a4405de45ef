/**
 * Strings of the bots views (issue 16): managing bots in room settings and the admin view, and the "app" badge on
 * messages posted by an integration. Importing this module adds them to the tables `t` reads; use `tb` for them.
 */
import { addMessages, translate } from './index.js';
import en from './bots.en.json';
import zhCN from './bots.zh-CN.json';

addMessages({ en, 'zh-CN': zhCN });

export type BotsKey = keyof typeof en;

export function tb(key: BotsKey, params?: Record<string, string | number>): string {
  return translate(key, params);
}

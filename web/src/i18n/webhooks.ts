/**
 * Strings of the webhooks settings (web/src/app/Webhooks.tsx). They load with the room settings and admin views
 * that show them (not in the initial bundle): importing this module adds them to the tables `t` reads.
 */
import { addMessages, translate } from './index.js';
import en from './webhooks.en.json';
import zhCN from './webhooks.zh-CN.json';

addMessages({ en, 'zh-CN': zhCN });

export type WebhooksKey = keyof typeof en;

export function tw(key: WebhooksKey, params?: Record<string, string | number>): string {
  return translate(key, params);
}

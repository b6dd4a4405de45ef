import { describe, expect, it } from 'vitest';
import botsEn from '../../web/src/i18n/bots.en.json' with { type: 'json' };
import botsZh from '../../web/src/i18n/bots.zh-CN.json' with { type: 'json' };
import en from '../../web/src/i18n/en.json' with { type: 'json' };
import modEn from '../../web/src/i18n/mod.en.json' with { type: 'json' };
import modZh from '../../web/src/i18n/mod.zh-CN.json' with { type: 'json' };
import zh from '../../web/src/i18n/zh-CN.json' with { type: 'json' };
import webhooksEn from '../../web/src/i18n/webhooks.en.json' with { type: 'json' };
import webhooksZh from '../../web/src/i18n/webhooks.zh-CN.json' with { type: 'json' };
import keepEn from '../../web/src/i18n/keep.en.json' with { type: 'json' };
import keepZh from '../../web/src/i18n/keep.zh-CN.json' with { type: 'json' };

/** The `{name}` placeholders of a string, sorted. */
const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('web client strings', () => {
  for (const [name, a, b] of [
    ['en.json / zh-CN.json', en, zh],
    ['mod.en.json / mod.zh-CN.json', modEn, modZh],
    ['bots.en.json / bots.zh-CN.json', botsEn, botsZh],
    ['webhooks.en.json / webhooks.zh-CN.json', webhooksEn, webhooksZh],
    ['keep.en.json / keep.zh-CN.json', keepEn, keepZh],
  ] as const) {
    it(`${name}: every string in both languages, with the same placeholders`, () => {
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      const mismatched = Object.entries(a as Record<string, string>).filter(
        ([k, v]) => JSON.stringify(params(v)) !== JSON.stringify(params((b as Record<string, string>)[k] ?? '')),
      );
      expect(mismatched.map(([k]) => k)).toEqual([]);
    });
  }

  // A view's own catalog adds to the shared tables: its keys carry its prefix, so they cannot overwrite another's.
  it('bots.*.json: every key prefixed bots.', () => {
    expect(Object.keys(botsEn).filter((k) => !k.startsWith('bots.'))).toEqual([]);
  });
});

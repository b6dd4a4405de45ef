import { describe, expect, it } from 'vitest';
import {
  fts5Match,
  hasLink,
  HIGHLIGHT_END,
  HIGHLIGHT_START,
  indexTerms,
  parseQuery,
  snippet,
  tsQuery,
  tsVector,
} from '../../src/core/search-text.js';

/** Snippets with [ ] for the highlight marks, to read them. */
const marked = (body: string, q: string, max = 80) =>
  snippet(body, parseQuery(q, 8), max).replaceAll(HIGHLIGHT_START, '[').replaceAll(HIGHLIGHT_END, ']');

describe('search text', () => {
  it('indexes each CJK character alone and folds words (NFKC, case, accents), as ASCII terms', () => {
    expect(indexTerms('数据 Café ＡＢＣ deploy-2024')).toEqual(['x06570', 'x0636e', 'cafe', 'abc', 'deploy', '2024']);
    expect(indexTerms('東京で')).toEqual(['x06771', 'x04eac', 'x03067']);
    expect(indexTerms('Привет')).toEqual(['x0043fx00440x00438x00432x00435x00442']);
    expect(indexTerms('!!! ...')).toEqual([]);
  });

  it('queries: a CJK run is a phrase, a word a prefix (one letter: the whole word), duplicates and extras dropped', () => {
    expect(parseQuery('数据库 deploy', 8)).toEqual([
      { kind: 'phrase', terms: ['x06570', 'x0636e', 'x05e93'] },
      { kind: 'prefix', term: 'deploy' },
    ]);
    expect(parseQuery('数据 库', 8)).toEqual([
      { kind: 'phrase', terms: ['x06570', 'x0636e'] },
      { kind: 'phrase', terms: ['x05e93'] },
    ]);
    expect(parseQuery('a Deploy deploy', 8)).toEqual([
      { kind: 'phrase', terms: ['a'] },
      { kind: 'prefix', term: 'deploy' },
    ]);
    expect(parseQuery('one two three', 2)).toHaveLength(2);
    expect(parseQuery(' ?! ', 8)).toEqual([]);
  });

  it('engine match syntax carries only ASCII terms', () => {
    const parts = parseQuery('数据 "deploy* OR x', 8);
    expect(fts5Match(parts)).toBe('"x06570 x0636e" AND "deploy"* AND "or"* AND "x"');
    expect(tsQuery(parts)).toBe('(B065700636e) & deploy:* & or:* & (x)');
    expect(tsVector(['a', 'b', 'a'])).toBe('a:1,3 b:2');
  });

  it('PostgreSQL indexes adjacent CJK characters as bigrams too, and phrase queries use them', () => {
    // 数据库: unigrams at 1..3, bigrams 数据 at 1 and 据库 at 2; the word between breaks no chain on its own.
    expect(tsVector(indexTerms('数据库'))).toBe('x06570:1 x0636e:2 B065700636e:1 x05e93:3 B0636e05e93:2');
    // A non-CJK term between two characters ends the pair; a one-letter Cyrillic word (x + 5 hex) is not CJK.
    expect(tsVector(indexTerms('数 ok 据 д 库'))).toBe('x06570:1 ok:2 x0636e:3 x00434:4 x05e93:5');
    expect(tsQuery(parseQuery('库', 8))).toBe('(x05e93)');
    expect(tsQuery(parseQuery('数据库迁移', 8))).toBe('(B065700636e <-> B0636e05e93 <-> B05e9308fc1 <-> B08fc1079fb)');
    expect(tsQuery(parseQuery('дд', 8))).toBe('x00434x00434:*');
  });

  it('snippets mark matched prefixes and phrases in the text as written, cut around the first match', () => {
    expect(marked('我们明天部署数据库', '数据')).toBe('我们明天部署[数据]库');
    expect(marked('新版本的API文档已经deploy到staging了', 'api文档 stag')).toBe(
      '新版本的[API文档]已经deploy到[stag]ing了',
    );
    expect(marked('The Deployment finished', 'deploy')).toBe('The [Deploy]ment finished');
    expect(marked('Café au lait', 'cafe')).toBe('[Café] au lait');
    // As in the index, where spaces are not terms: characters apart by a space are still adjacent.
    expect(marked('数 据 and 数字', '数据')).toBe('[数 据] and 数字');
    const long = `${'x'.repeat(300)} needle ${'y'.repeat(300)}`;
    const s = marked(long, 'needle', 80);
    expect(s.startsWith('…')).toBe(true);
    expect(s.endsWith('…')).toBe(true);
    expect(s).toContain('[needle]');
    expect([...s.replace(/[[\]…]/g, '')].length).toBe(80);
    // The marks typed into a message do not fake a highlight.
    expect(marked(`fake ${HIGHLIGHT_START}mark${HIGHLIGHT_END} here`, 'here')).toBe('fake mark [here]');
  });

  it('has:link sees http(s) URLs and www. hosts', () => {
    expect(hasLink('see https://example.com/a')).toBe(true);
    expect(hasLink('www.example.org is up')).toBe(true);
    expect(hasLink('no link here, just http talk')).toBe(false);
  });
});

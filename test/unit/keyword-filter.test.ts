import { describe, expect, it } from 'vitest';
import { KeywordFilter, parseFilterFile } from '../../src/core/moderation/keyword-filter.js';

const filter = KeywordFilter.fromLists({
  block: 'bad, evil word, 坏蛋',
  mask: 'darn,heck,傻瓜',
  flag: 'spam,ＳＣＡＭ',
});
const blocked = (text: string) => filter.check(text).blocked;
const masked = (text: string) => filter.check(text).text;
const flagged = (text: string) => filter.check(text).flagged;

describe('KeywordFilter matching', () => {
  it.each([
    ['bad'],
    ['this is bad.'],
    ['BAD'],
    ['BaD news'],
    ['ＢＡＤ'], // full-width Latin
    ['ｂａｄ and more'],
    ['b.a.d'],
    ['b a d'],
    ['b-a-d'],
    ['b_a_d'],
    ['b . a . d'],
    ['B...A...D!'],
    ['b\u200Ba\u200Bd'], // zero-width spaces
    ['b\u200Da\u200Cd'], // zero-width joiner / non-joiner
    ['b\u00ADa\u00ADd'], // soft hyphens
    ['ba\u200Bd'],
    ['\uFEFFbad'],
    ['b\u034Fa\uFE0Fd'], // combining grapheme joiner, variation selector
    ['\u3164bad\u3164'], // Hangul filler
    ['x b a d y'], // inside a longer spelled-out run
    ['"bad"'],
    ["that's bad's fault"],
    ['(bad)'],
    ['line one\nbad\nline three'],
    ['你好 bad 朋友'],
    ['这是bad的'], // Latin next to CJK: every CJK neighbour is a boundary
    ['evil word'],
    ['EVIL   WORD'],
    ['evil-word'],
    ['evil\nword'],
    ['你是坏蛋吗'], // CJK: substring match
    ['坏蛋'],
    ['坏 蛋'],
    ['坏.蛋'],
    ['坏\u200B蛋'],
    // Issue 21, finding 4: look-alikes (UTS #39 confusables), combining marks, lone surrogates.
    ['b\u0430d'], // Cyrillic а
    ['\u15af\u0430d'], // Cyrillic а, and Canadian syllabics ᖯ for b
    ['b\u0251d'], // Latin alpha ɑ
    ['\u{1D41B}\u{1D41A}\u{1D41D}'], // mathematical bold 𝐛𝐚𝐝 (NFKC)
    ['ba\u0301d'], // combining acute
    ['b\u00e1d'], // precomposed á
    ['b\u0363a\u0308\u0330d'], // a pile of marks
    ['ba\ud800d'], // a lone surrogate (the protocol refuses it; the filter must not be fooled either)
    ['b\u{E0061}ad'], // a tag character
    ['\u0435vil w\u043erd'], // Cyrillic е and о
    ['b.\u0430.d'], // spelled out with a look-alike
  ])('blocks %j', (text) => {
    expect(blocked(text).length).toBeGreaterThan(0);
  });

  it.each([
    [''],
    ['good'],
    ['badge'], // whole words only
    ['sinbad'],
    ['bad1'],
    ['ba d'], // split pieces longer than one letter are not joined
    ['b  ,   a d'], // separator run too long to join
    ['evil'],
    ['evilword'],
    ['words that are evil'],
    ['坏人'],
    ['蛋糕很好吃'],
    ['bandana'],
    ['abad'],
    ['b\u0430dge'], // look-alikes still match whole words only
    ['bed'],
  ])('passes %j', (text) => {
    expect(filter.check(text)).toEqual({ blocked: [], text, flagged: [] });
  });

  it('names each configured word found once, as configured', () => {
    expect(blocked('bad bad BAD 坏蛋 evil word')).toEqual(['bad', 'evil word', '坏蛋']);
    expect(flagged('spam and scam and SPAM')).toEqual(['spam', 'ＳＣＡＭ']);
  });

  it('flags without changing the text', () => {
    expect(filter.check('buy now, not spam')).toEqual({ blocked: [], text: 'buy now, not spam', flagged: ['spam'] });
    expect(flagged('ｓｃａｍ')).toEqual(['ＳＣＡＭ']);
    expect(flagged('s.c.a.m')).toEqual(['ＳＣＡＭ']);
    expect(flagged('scammer')).toEqual([]);
  });
});

describe('KeywordFilter masking', () => {
  it('masks look-alike and accented spellings by the length of what was written', () => {
    expect(masked('oh d\u0430rn it')).toBe('oh **** it');
    expect(masked('he\u0301ck')).toBe('****');
    expect(masked('\u0441\u0440\u0430m-free')).toBe('\u0441\u0440\u0430m-free'); // "срам": not "scam" ("c" ≠ "s")
  });

  it.each([
    ['darn', '****'],
    ['oh darn it', 'oh **** it'],
    ['DARN!', '****!'],
    ['Ｄａｒｎ', '****'], // full-width: one * per character
    ['d.a.r.n', '*******'], // separators inside the span are masked too
    ['d a r n it', '******* it'],
    ['d\u200Ba\u200Br\u200Bn', '****'], // invisible characters do not count
    ['darn heck darn', '**** **** ****'],
    ['darnit', 'darnit'],
    ['你这个傻瓜！', '你这个**！'],
    ['傻瓜傻瓜', '****'],
    ['what the HECK, darn', 'what the ****, ****'],
    ['naïve darn café', 'naïve **** café'],
    ['👍 darn 👍', '👍 **** 👍'],
  ])('%j → %j', (text, out) => {
    expect(masked(text)).toBe(out);
    expect(filter.check(text).blocked).toEqual([]);
  });

  it('masks and blocks independently in one text', () => {
    expect(filter.check('darn, that is bad')).toEqual({ blocked: ['bad'], text: '****, that is bad', flagged: [] });
  });
});

describe('KeywordFilter configuration', () => {
  it('normalizes configured words the same way as text', () => {
    const f = KeywordFilter.fromLists({ block: 'ＦＯＯ, B-A-R, Straße' });
    expect(f.check('foo').blocked).toEqual(['ＦＯＯ']);
    expect(f.check('bar').blocked).toEqual(['B-A-R']);
    expect(f.check('STRASSE').blocked).toEqual(['Straße']);
    expect(f.check('strasse').blocked).toEqual(['Straße']);
  });

  it('ignores empty entries and duplicates', () => {
    const f = KeywordFilter.fromLists({ block: ' , bad,,BAD , ', mask: '', flag: undefined });
    expect(f.size).toBe(1);
    expect(KeywordFilter.fromLists({}).check('anything bad')).toEqual({
      blocked: [],
      text: 'anything bad',
      flagged: [],
    });
    expect(new KeywordFilter([{ word: '...', action: 'block' }]).size).toBe(0);
  });

  it('parses a filter file', () => {
    const rules = parseFilterFile(
      ['# words', '', 'block: bad', '  mask:darn  ', 'FLAG: spam eggs', '# block: commented', 'block: 坏蛋\r'].join(
        '\n',
      ),
    );
    expect(rules).toEqual([
      { action: 'block', word: 'bad' },
      { action: 'mask', word: 'darn' },
      { action: 'flag', word: 'spam eggs' },
      { action: 'block', word: '坏蛋' },
    ]);
    const f = KeywordFilter.fromLists({ block: 'evil' }, rules);
    expect(f.check('evil spam  EGGS darn').blocked).toEqual(['evil']);
    expect(f.check('evil spam  EGGS darn').flagged).toEqual(['spam eggs']);
    expect(f.check('evil spam  EGGS darn').text).toBe('evil spam  EGGS ****');
  });

  it('names the first bad line of a filter file', () => {
    expect(() => parseFilterFile('block: ok\nremove: x')).toThrow(/^line 2: expected/);
    expect(() => parseFilterFile('block:')).toThrow(/^line 1:/);
    expect(() => parseFilterFile('just a word')).toThrow(/^line 1:/);
  });

  // How fast this is belongs to benchmarks, not to a timed unit test; a blow-up would still hit the test timeout.
  it('checks a long message against 500 words: nothing blocked falsely, a word at the very end found', () => {
    const many = KeywordFilter.fromLists({ block: Array.from({ length: 500 }, (_, i) => `word${i}x`).join(',') });
    const text = 'lorem ipsum dolor sit amet 你好世界 '.repeat(130); // ~4000 characters
    for (let i = 0; i < 10; i++) expect(many.check(text).blocked).toEqual([]);
    expect(many.check(`${text} word499x`).blocked).toEqual(['word499x']);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FaqEngine, faqTerms, parseFaqFile, parseFaqMarkdown, parseFaqYaml } from '../../src/core/assistant/faq.js';

/**
 * The local FAQ engine (issue 16): the Markdown format, the scorer (TF-IDF cosine over search-text terms plus CJK
 * bigrams) on English and Chinese, and the confidence threshold below which it says it does not know.
 */
const SAMPLE = readFileSync(new URL('../../docs/examples/faq.md', import.meta.url), 'utf8');
const UNKNOWN = 'I do not know.';
const engine = (threshold = 0.35) => new FaqEngine(parseFaqMarkdown(SAMPLE), { threshold, unknownText: UNKNOWN });
const ask = async (e: FaqEngine, question: string) => {
  const seen: string[] = [];
  const outcome = await e.answer({ question, context: [], signal: new AbortController().signal }, (t) => seen.push(t));
  return { outcome, seen };
};

describe('FAQ file format', () => {
  it('reads the documented sample: headings are questions, `? ` lines other phrasings, the rest the answer', () => {
    const entries = parseFaqMarkdown(SAMPLE);
    expect(entries.map((e) => e.question)).toEqual([
      'How do I reset my password?',
      'What are the office opening hours?',
      'How do I export my chat history?',
      '如何修改密码？',
      '发票怎么开？',
    ]);
    expect(entries[0]!.alternatives).toEqual(['I forgot my password', "can't log in, lost password"]);
    expect(entries[0]!.answer).toMatch(/^Open \*\*Settings → Password\*\*, type your current password/);
    expect(entries[0]!.answer).not.toContain('? I forgot');
    expect(entries[3]!.alternatives).toEqual(['忘记密码怎么办']);
  });

  it('a question without an answer is an error naming its line; ### headings belong to the answer', () => {
    expect(() => parseFaqMarkdown('## One?\nYes.\n\n## Two?\n\n')).toThrow(
      /line 4: the question "Two\?" has no answer/,
    );
    const [e] = parseFaqMarkdown('## Q?\nA\n### detail\nmore');
    expect(e!.answer).toBe('A\n### detail\nmore');
  });

  it('a `? ` line after answer text is answer text, not a phrasing', () => {
    const [e] = parseFaqMarkdown('## Q?\n? alt\nAnswer\n? not an alt');
    expect(e!.alternatives).toEqual(['alt']);
    expect(e!.answer).toBe('Answer\n? not an alt');
  });
});

describe('FAQ file format: YAML', () => {
  const YAML_SAMPLE = readFileSync(new URL('../../docs/examples/faq.yaml', import.meta.url), 'utf8');

  it('reads the documented YAML sample into the same entries as its Markdown twin', () => {
    const fromYaml = parseFaqFile('/etc/relaychat/faq.yaml', YAML_SAMPLE);
    expect(fromYaml.map((e) => e.question)).toEqual([
      'What are the office opening hours?',
      'How do I export my chat history?',
      '发票怎么开？',
    ]);
    expect(fromYaml[0]!.alternatives).toEqual(['when are you open', 'are you open on Saturday']);
    // The entries the two samples share read the same either way (block scalars lose their final newline).
    const md = parseFaqMarkdown(SAMPLE);
    for (const q of ['How do I export my chat history?', '发票怎么开？'])
      expect(fromYaml.find((e) => e.question === q)).toEqual(md.find((e) => e.question === q));
    const e = new FaqEngine(fromYaml, { threshold: 0.35, unknownText: UNKNOWN });
    expect(e.best('are you open on Saturday?')!.entry.question).toBe('What are the office opening hours?');
  });

  it('the file name picks the parser: .yml/.yaml is YAML, anything else Markdown', () => {
    expect(parseFaqFile('faq.YML', '- question: Q?\n  answer: A')).toEqual([
      { question: 'Q?', alternatives: [], answer: 'A' },
    ]);
    expect(parseFaqFile('faq.md', '## Q?\nA')).toEqual([{ question: 'Q?', alternatives: [], answer: 'A' }]);
  });

  it('mistakes are errors naming the entry: not a list, no answer, a typo in a key, a bad "also"', () => {
    expect(() => parseFaqYaml('question: Q?\nanswer: A')).toThrow(/a YAML FAQ is a list/);
    expect(() => parseFaqYaml('- question: One?\n  answer: Yes\n- question: Two?')).toThrow(
      /entry 2: the question "Two\?" has no answer/,
    );
    expect(() => parseFaqYaml('- question: Q?\n  answr: A')).toThrow(/entry 1: unknown key "answr"/);
    expect(() => parseFaqYaml('- question: Q?\n  also: just one\n  answer: A')).toThrow(
      /entry 1: "also" must be a list/,
    );
    expect(() => parseFaqYaml('- [a, b')).toThrow();
  });
});

describe('FAQ scorer', () => {
  it('terms: stop words dropped, plurals folded, CJK characters and bigrams', () => {
    expect(faqTerms('How do I reset my passwords?')).toEqual(faqTerms('reset password'));
    const zh = faqTerms('修改密码');
    expect(zh).toHaveLength(4 + 3); // 4 characters, 3 adjacent pairs
    expect(faqTerms('的吗')).toEqual([faqTerms('的吗')[0]]); // both stop characters: only their bigram is left
  });

  it('answers a paraphrase in English with the matching entry and says why', async () => {
    const e = engine();
    const match = e.best('hey, I lost my password, how can I reset it?')!;
    expect(match.entry.question).toBe('How do I reset my password?');
    expect(match.confidence).toBeGreaterThan(0.35);
    expect(match.matched).toEqual(expect.arrayContaining(faqTerms('reset password')));
    const { outcome, seen } = await ask(e, 'when are you open?');
    expect(outcome).toMatchObject({ kind: 'answer', source: 'What are the office opening hours?' });
    expect(outcome.text).toBe('Monday to Friday, 9:00 to 18:00 (Beijing time).');
    expect(seen).toEqual([outcome.text]);
  });

  it('answers Chinese questions, which have no spaces, and tells two Chinese entries apart', async () => {
    const e = engine();
    const pw = await ask(e, '请问密码忘记了怎么办？');
    expect(pw.outcome).toMatchObject({ kind: 'answer', source: '如何修改密码？' });
    const bill = await ask(e, '我想开发票');
    expect(bill.outcome).toMatchObject({ kind: 'answer', source: '发票怎么开？' });
    expect(bill.outcome.text).toContain('billing@example.com');
  });

  it('below the threshold it says it does not know, and reports the confidence it had', async () => {
    const e = engine();
    const { outcome } = await ask(e, 'what is the capital of France?');
    expect(outcome).toEqual({ kind: 'unknown', text: UNKNOWN, confidence: 0 });
    const zh = await ask(e, '今天天气如何');
    expect(zh.outcome.kind).toBe('unknown');
  });

  it('the threshold is what decides: the same weak match answers at a low threshold, not at a high one', async () => {
    const q = 'password';
    const conf = engine().best(q)!.confidence;
    expect(conf).toBeGreaterThan(0.2);
    expect(conf).toBeLessThan(0.99);
    expect((await ask(engine(conf - 0.01), q)).outcome.kind).toBe('answer');
    const high = await ask(engine(conf + 0.01), q);
    expect(high.outcome).toMatchObject({ kind: 'unknown', confidence: conf });
  });

  it('an exact question scores 1; a question with nothing searchable scores nothing', () => {
    expect(engine().best('How do I export my chat history?')!.confidence).toBeCloseTo(1, 10);
    expect(engine().best('?!')).toBeNull();
  });
});

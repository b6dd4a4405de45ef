/**
 * The local FAQ engine: answers from an operator's FAQ file (Markdown or YAML), no network, no model.
 *
 * Scoring is TF-IDF cosine similarity between the question asked and each phrasing of each FAQ question, over the
 * terms of src/core/search-text.ts (so Chinese and Japanese are split per character like message search), with
 * adjacent CJK characters also counted as bigrams (so 密码 weighs more than 密 and 码 apart) and a short list of
 * function words dropped. The best phrasing's similarity (0–1) is the confidence; below the threshold the engine
 * says it does not know (`unknown`), which the customer-service mode can use to hand over to a person. Every
 * answer carries the terms that matched, so a surprising answer can be explained.
 */
import { parse as parseYamlText } from 'yaml';
import { tokenize } from '../search-text.js';
import type { AssistantBackend, AssistantOutcome, AssistantRequest } from './backend.js';

export interface FaqEntry {
  /** The heading: the question as the operator wrote it. */
  question: string;
  /** Other ways people ask it (`? ` lines right under the heading). */
  alternatives: string[];
  answer: string;
}

/**
 * Parses the FAQ Markdown: each `## ` heading is a question, lines starting with `? ` right under it are other
 * phrasings of it, and the text up to the next `## ` heading is its answer. Text before the first `## ` heading
 * (a title, an introduction) is ignored. Throws on a question with no answer, so a broken file stops the start.
 */
export function parseFaqMarkdown(text: string): FaqEntry[] {
  const entries: FaqEntry[] = [];
  let current: { question: string; alternatives: string[]; lines: string[]; line: number } | null = null;
  const finish = () => {
    if (!current) return;
    const answer = current.lines.join('\n').trim();
    if (!answer) throw new Error(`line ${current.line}: the question "${current.question}" has no answer`);
    entries.push({ question: current.question, alternatives: current.alternatives, answer });
  };
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((line, i) => {
    const heading = /^##\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading && !line.startsWith('###')) {
      finish();
      current = { question: heading[1]!, alternatives: [], lines: [], line: i + 1 };
      return;
    }
    if (!current) return;
    const alt = /^\?\s+(.+)$/.exec(line);
    if (alt && current.lines.every((l) => l.trim() === '')) current.alternatives.push(alt[1]!.trim());
    else current.lines.push(line);
  });
  finish();
  return entries;
}

/**
 * Parses a YAML FAQ: a list of `{question, also?, answer}` mappings (`also`: other phrasings, a list of strings),
 * the same entries as the Markdown form for operators who keep their FAQ as data. Throws naming the entry at fault.
 */
export function parseFaqYaml(text: string): FaqEntry[] {
  const doc: unknown = parseYamlText(text);
  if (doc == null) return [];
  if (!Array.isArray(doc)) throw new Error('a YAML FAQ is a list of {question, also?, answer} entries');
  return doc.map((item: unknown, i) => {
    const at = `entry ${i + 1}`;
    if (typeof item !== 'object' || item === null) throw new Error(`${at}: not a mapping`);
    const { question, also, answer, ...rest } = item as Record<string, unknown>;
    const unknownKeys = Object.keys(rest);
    if (unknownKeys.length) throw new Error(`${at}: unknown key "${unknownKeys[0]}" (use question, also, answer)`);
    if (typeof question !== 'string' || !question.trim()) throw new Error(`${at}: "question" must be text`);
    if (typeof answer !== 'string' || !answer.trim())
      throw new Error(`${at}: the question "${question.trim()}" has no answer`);
    const alts = also ?? [];
    if (!Array.isArray(alts) || !alts.every((a): a is string => typeof a === 'string'))
      throw new Error(`${at}: "also" must be a list of phrasings`);
    return { question: question.trim(), alternatives: alts.map((a) => a.trim()), answer: answer.trim() };
  });
}

/** The entries of an FAQ file: YAML for `.yaml`/`.yml`, Markdown otherwise. */
export function parseFaqFile(path: string, text: string): FaqEntry[] {
  return /\.ya?ml$/i.test(path) ? parseFaqYaml(text) : parseFaqMarkdown(text);
}

/** Function words that say nothing about what is asked (English; CJK particles). Kept short on purpose. */
const STOP = new Set(
  (
    'a an the is are was were be been am do does did i me my we our you your it its to of in on at for with ' +
    'and or how what when where why who which can could should would will there this that these those please ' +
    'hi hello hey 的 了 吗 呢 吧 啊 是 我 你 么 在 请'
  )
    .split(' ')
    .flatMap((w) => tokenize(w).map((t) => t.term)),
);

/** The terms of a text: folded words (a trailing plural `s` dropped), CJK characters and CJK bigrams. */
export function faqTerms(text: string): string[] {
  const out: string[] = [];
  let prevCjk: string | null = null;
  for (const t of tokenize(text)) {
    if (t.kind === 'cjk') {
      if (prevCjk !== null) out.push(`${prevCjk}+${t.term}`);
      prevCjk = t.term;
      if (!STOP.has(t.term)) out.push(t.term);
      continue;
    }
    prevCjk = null;
    if (STOP.has(t.term)) continue;
    out.push(t.term.length > 3 && t.term.endsWith('s') && !t.term.endsWith('ss') ? t.term.slice(0, -1) : t.term);
  }
  return out;
}

type Vector = Map<string, number>;

const norm = (v: Vector) => Math.sqrt([...v.values()].reduce((s, x) => s + x * x, 0));

export interface FaqMatch {
  entry: FaqEntry;
  /** Cosine similarity of the question and the best phrasing of the entry, 0–1. */
  confidence: number;
  /** The (encoded) terms the question and that phrasing share: why it matched. */
  matched: string[];
}

export interface FaqEngineOptions {
  /** Below this confidence the engine answers `unknown`. */
  threshold: number;
  /** What it says when it does not know. */
  unknownText: string;
}

export class FaqEngine implements AssistantBackend {
  readonly name = 'faq' as const;
  private readonly idf = new Map<string, number>();
  private readonly phrasings: { entry: FaqEntry; vector: Vector; length: number }[] = [];

  constructor(
    readonly entries: readonly FaqEntry[],
    private readonly opts: FaqEngineOptions,
  ) {
    // Document frequency over entries (an entry's phrasings count once): a term in every entry tells nothing.
    const df = new Map<string, number>();
    const termsOf = entries.map((e) => [e.question, ...e.alternatives].map(faqTerms));
    for (const phrasings of termsOf) for (const t of new Set(phrasings.flat())) df.set(t, (df.get(t) ?? 0) + 1);
    const n = Math.max(1, entries.length);
    for (const [t, d] of df) this.idf.set(t, Math.log(1 + n / d));
    entries.forEach((entry, i) => {
      for (const terms of termsOf[i]!) {
        const vector = this.vectorOf(terms);
        if (vector.size > 0) this.phrasings.push({ entry, vector, length: norm(vector) });
      }
    });
  }

  /** TF-IDF weights; a term the FAQ never uses gets the weight of the rarest (it still counts against a match). */
  private vectorOf(terms: readonly string[]): Vector {
    const maxIdf = Math.log(1 + Math.max(1, this.entries.length));
    const v: Vector = new Map();
    for (const t of terms) v.set(t, (v.get(t) ?? 0) + 1);
    for (const [t, tf] of v) v.set(t, tf * (this.idf.get(t) ?? maxIdf));
    return v;
  }

  /** The best-matching entry and why, or null when nothing shares a term with the question. */
  best(question: string): FaqMatch | null {
    const q = this.vectorOf(faqTerms(question));
    const qLen = norm(q);
    if (qLen === 0) return null;
    let best: FaqMatch | null = null;
    for (const p of this.phrasings) {
      let dot = 0;
      const matched: string[] = [];
      for (const [t, w] of q) {
        const pw = p.vector.get(t);
        if (pw !== undefined) {
          dot += w * pw;
          matched.push(t);
        }
      }
      if (dot === 0) continue;
      const confidence = dot / (qLen * p.length);
      if (!best || confidence > best.confidence) best = { entry: p.entry, confidence, matched };
    }
    return best;
  }

  answer(req: AssistantRequest, onText: (textSoFar: string) => void): Promise<AssistantOutcome> {
    const match = this.best(req.question);
    if (!match || match.confidence < this.opts.threshold) {
      onText(this.opts.unknownText);
      return Promise.resolve({ kind: 'unknown', text: this.opts.unknownText, confidence: match?.confidence ?? 0 });
    }
    onText(match.entry.answer);
    return Promise.resolve({
      kind: 'answer',
      text: match.entry.answer,
      confidence: match.confidence,
      source: match.entry.question,
    });
  }
}

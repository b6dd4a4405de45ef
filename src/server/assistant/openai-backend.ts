/**
 * The assistant backend for any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp's server,
 * Ollama, LocalAI, …): `POST {ASSISTANT_URL}/chat/completions` with `stream: true`, read as server-sent events
 * (`data: {json}` lines, `data: [DONE]` at the end), each chunk's `choices[0].delta.content` appended. A server
 * that ignores `stream` and answers plain JSON is read too. The whole answer must arrive within the timeout.
 * ASSISTANT_URL is the operator's own setting, so it is not put through the SSRF guard of link previews.
 */
import {
  AssistantBackendError,
  type AssistantBackend,
  type AssistantOutcome,
  type AssistantRequest,
} from '../../core/assistant/backend.js';

export interface OpenAiBackendOptions {
  /** Base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8080/v1`. */
  url: string;
  model: string;
  /** Sent as `Authorization: Bearer`; empty = no header. */
  apiKey: string;
  timeoutMs: number;
  systemPrompt: string;
  maxTokens: number;
  /** Longest answer kept (characters); the rest of the stream is not read. */
  maxChars: number;
}

const snippet = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s);

export class OpenAiBackend implements AssistantBackend {
  readonly name = 'openai' as const;

  constructor(private readonly opts: OpenAiBackendOptions) {}

  private messages(req: AssistantRequest) {
    return [
      { role: 'system', content: this.opts.systemPrompt },
      ...req.context.map((l) =>
        l.assistant ? { role: 'assistant', content: l.body } : { role: 'user', content: `${l.author}: ${l.body}` },
      ),
      { role: 'user', content: req.question },
    ];
  }

  async answer(req: AssistantRequest, onText: (textSoFar: string) => void): Promise<AssistantOutcome> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const signal = AbortSignal.any([req.signal, timeout]);
    const timedOut = () =>
      new AssistantBackendError(
        'assistant_timeout',
        `The assistant's endpoint did not finish answering within ${this.opts.timeoutMs} ms.`,
      );
    try {
      const res = await fetch(`${this.opts.url.replace(/\/+$/, '')}/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: this.opts.model,
          messages: this.messages(req),
          stream: true,
          max_tokens: this.opts.maxTokens,
        }),
        signal,
      });
      if (!res.ok) {
        const body = await res.text().catch(() => '');
        throw new AssistantBackendError(
          'assistant_failed',
          `The assistant's endpoint answered HTTP ${res.status}${body ? `: ${snippet(body)}` : ''}.`,
        );
      }
      const type = res.headers.get('content-type') ?? '';
      const text = type.includes('text/event-stream')
        ? await this.readStream(res, onText)
        : this.readJson(await res.text(), onText);
      return { kind: 'answer', text };
    } catch (err) {
      if (err instanceof AssistantBackendError) throw err;
      if (timeout.aborted) throw timedOut();
      if (req.signal.aborted) throw new AssistantBackendError('assistant_failed', 'The server is stopping.');
      throw new AssistantBackendError(
        'assistant_failed',
        `The assistant's endpoint could not be reached: ${(err as Error).message}.`,
      );
    }
  }

  private readJson(body: string, onText: (textSoFar: string) => void): string {
    let content: unknown;
    try {
      content = (JSON.parse(body) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message
        ?.content;
    } catch {
      throw new AssistantBackendError('assistant_bad_response', `Not JSON: ${snippet(body)}`);
    }
    if (typeof content !== 'string' || content === '') {
      throw new AssistantBackendError('assistant_bad_response', 'The answer has no choices[0].message.content.');
    }
    const text = content.slice(0, this.opts.maxChars);
    onText(text);
    return text;
  }

  /** Server-sent events: events end at a blank line; `data:` lines of one event are joined by newlines. */
  private async readStream(res: Response, onText: (textSoFar: string) => void): Promise<string> {
    if (!res.body) throw new AssistantBackendError('assistant_bad_response', 'The answer has no body.');
    const decoder = new TextDecoder();
    let buffer = '';
    let data: string[] = [];
    let text = '';
    let done = false;
    const dispatch = () => {
      if (data.length === 0) return;
      const payload = data.join('\n');
      data = [];
      if (payload.trim() === '[DONE]') {
        done = true;
        return;
      }
      let chunk: { choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[]; error?: unknown };
      try {
        chunk = JSON.parse(payload) as typeof chunk;
      } catch {
        throw new AssistantBackendError('assistant_bad_response', `A stream event is not JSON: ${snippet(payload)}`);
      }
      if (chunk.error !== undefined) {
        throw new AssistantBackendError(
          'assistant_failed',
          `The endpoint reported an error: ${snippet(JSON.stringify(chunk.error))}`,
        );
      }
      const delta = chunk.choices?.[0]?.delta?.content;
      if (typeof delta === 'string' && delta !== '') {
        text = (text + delta).slice(0, this.opts.maxChars);
        onText(text);
        if (text.length >= this.opts.maxChars) done = true;
      }
    };
    const reader = res.body.getReader();
    try {
      while (!done) {
        const { value, done: ended } = await reader.read();
        buffer += ended ? decoder.decode() : decoder.decode(value, { stream: true });
        let nl: number;
        while (!done && (nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (line === '') dispatch();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          // `event:`, `id:`, `retry:` and `:` comment lines carry nothing for chat completions.
        }
        if (ended) break;
      }
      if (!done) dispatch(); // a last event without its blank line
    } finally {
      await reader.cancel().catch(() => {});
    }
    if (!done && text === '') {
      throw new AssistantBackendError('assistant_bad_response', 'The stream ended without an answer.');
    }
    if (text === '') throw new AssistantBackendError('assistant_bad_response', 'The answer is empty.');
    return text;
  }
}

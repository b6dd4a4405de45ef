/**
 * The assistant's answering engine, behind one small interface so the FAQ engine (default) and an
 * OpenAI-compatible endpoint are interchangeable. Backends know nothing of rooms, budgets or the send path.
 */

/** One line of the conversation given as context, oldest first. */
export interface ContextLine {
  author: string;
  body: string;
  /** Said by the assistant itself (an earlier answer). */
  assistant: boolean;
}

export interface AssistantRequest {
  /** The question, with the mention of the assistant taken out. */
  question: string;
  /** The room's recent messages before the question, oldest first (ASSISTANT_CONTEXT_MESSAGES). */
  context: ContextLine[];
  /** Aborted when the answer takes longer than ASSISTANT_TIMEOUT_MS or the server stops. */
  signal: AbortSignal;
}

/**
 * What a backend answered. `unknown` is the "I don't know" outcome (the FAQ engine below its confidence
 * threshold): the text says so, and a caller (the customer-service hand-over) can act on the kind.
 */
export type AssistantOutcome =
  | { kind: 'answer'; text: string; confidence?: number; source?: string }
  | { kind: 'unknown'; text: string; confidence?: number };

/** Why a backend could not answer; `code` is an error code of the catalogue. */
export class AssistantBackendError extends Error {
  constructor(
    readonly code: 'assistant_timeout' | 'assistant_failed' | 'assistant_bad_response',
    message: string,
  ) {
    super(message);
  }
}

export interface AssistantBackend {
  readonly name: 'faq' | 'openai';
  /**
   * Answers a request. `onText` is called with the whole answer so far each time it grows (a streaming backend
   * calls it per chunk; the FAQ engine once). Throws AssistantBackendError when it cannot answer.
   */
  answer(req: AssistantRequest, onText: (textSoFar: string) => void): Promise<AssistantOutcome>;
}

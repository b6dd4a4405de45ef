import { ERRORS, type ErrorBody, type ErrorCode } from '../protocol/errors.js';

/** The one exception type of the domain. Transports map it to an HTTP response or an `error` frame. */
export class ChatError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;
  readonly issues: { path: string; message: string }[] | undefined;

  constructor(
    code: ErrorCode,
    opts: { message?: string; retryAfterMs?: number; issues?: { path: string; message: string }[] } = {},
  ) {
    super(opts.message ?? ERRORS[code].message);
    this.name = 'ChatError';
    this.code = code;
    this.retryAfterMs = opts.retryAfterMs;
    this.issues = opts.issues;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message, retryable: ERRORS[this.code].retryable };
    if (this.retryAfterMs !== undefined) body.retryAfterMs = this.retryAfterMs;
    if (this.issues) body.issues = this.issues;
    return body;
  }
}

/** At most this many issues, each message and path at most ISSUE_TEXT_MAX characters, go back to the client. */
export const MAX_ISSUES = 20;
export const ISSUE_TEXT_MAX = 200;

/** Cuts `s` to `max` code points, marking the cut with an ellipsis, never splitting a surrogate pair. */
function cut(s: string, max: number): string {
  const cps = Array.from(s);
  return cps.length <= max ? s : `${cps.slice(0, max - 1).join('')}…`;
}

/**
 * Turns a zod-style issue list into the wire shape, bounded: the input's size must not decide the answer's (one
 * unrecognized-keys issue names every unknown key; a key can be as long as the body).
 */
export function validationError(issues: readonly { path: PropertyKey[]; message: string }[]): ChatError {
  return new ChatError('validation_failed', {
    issues: issues.slice(0, MAX_ISSUES).map((i) => ({
      path: cut(i.path.map(String).join('.'), ISSUE_TEXT_MAX),
      message: cut(i.message, ISSUE_TEXT_MAX),
    })),
  });
}

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

/** Turns a zod-style issue list into the wire shape. */
export function validationError(issues: readonly { path: PropertyKey[]; message: string }[]): ChatError {
  return new ChatError('validation_failed', {
    issues: issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  });
}

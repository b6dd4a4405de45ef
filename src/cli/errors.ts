import { ApiError, SendError } from '../client/index.js';

/**
 * An error the CLI itself detects (bad arguments, not logged in, a name that matches no room). It carries a
 * short stable code, like the server's errors, so scripts can match on it.
 */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string, command?: string): CliError =>
  new CliError('usage', `${message}; see \`chat ${command ? `${command} ` : ''}--help\``);

/**
 * Turns any failure into the one line the user sees: `<message> (<code>)`. Server errors get a hint where
 * the next step is obvious. Only unexpected errors (bugs) may show a stack, and only with CHAT_DEBUG=1.
 */
export function describeError(err: unknown, serverUrl: string): { message: string; code: string; stack?: string } {
  if (err instanceof CliError) return { message: err.message, code: err.code };
  if (err instanceof ApiError) {
    if (err.code === 'network_error') return { message: `cannot reach ${serverUrl}: ${err.message}`, code: err.code };
    if (err.code === 'unauthorized') {
      return {
        message: `${err.message} Log in again: chat login <username>`,
        code: err.code,
      };
    }
    if (err.code === 'rate_limited' && err.retryAfterMs !== undefined) {
      return { message: `${err.message} (retry in ${Math.ceil(err.retryAfterMs / 1000)} s)`, code: err.code };
    }
    if (err.issues?.length) {
      // The server's reasons, not only its code: `username: Too small: expected string to have >=3 characters`.
      const why = err.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
      return { message: `${err.message} ${why}`, code: err.code };
    }
    return { message: err.message, code: err.code };
  }
  if (err instanceof SendError) return { message: err.message, code: err.code };
  const e = err instanceof Error ? err : new Error(String(err));
  return { message: e.message, code: 'internal', ...(e.stack ? { stack: e.stack } : {}) };
}

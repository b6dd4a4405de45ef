import type { z } from 'zod';
import { validationError } from '../../core/chat-error.js';

/** Parses untrusted input at the boundary; a mismatch is a `validation_failed` ChatError, never a crash. */
export function parse<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const result = schema.safeParse(data ?? {});
  if (!result.success) throw validationError(result.error.issues);
  return result.data;
}

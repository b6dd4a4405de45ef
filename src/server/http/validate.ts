import type { z } from 'zod';
import { ILL_FORMED_MESSAGE, illFormedPath } from '../../protocol/well-formed.js';
import { validationError } from '../../core/chat-error.js';

/**
 * Parses untrusted input at the boundary; a mismatch is a `validation_failed` ChatError, never a crash.
 * Ill-formed UTF-16 anywhere in the input (any field, any key) fails before the schema runs.
 */
export function parse<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const bad = illFormedPath(data);
  if (bad) throw validationError([{ path: bad, message: ILL_FORMED_MESSAGE }]);
  const result = schema.safeParse(data ?? {});
  if (!result.success) throw validationError(result.error.issues);
  return result.data;
}

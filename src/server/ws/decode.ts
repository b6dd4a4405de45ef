import { ClientFrame } from '../../protocol/frames.js';
import { ILL_FORMED_MESSAGE, illFormedPath } from '../../protocol/well-formed.js';
import { validationError, type ChatError } from '../../core/chat-error.js';

/**
 * Validates a parsed client frame: ill-formed UTF-16 anywhere in it first (as HTTP input is, in http/validate.ts),
 * then the frame schema. Failure is the `validation_failed` error to send back.
 */
export function parseClientFrame(
  json: unknown,
): { success: true; data: ClientFrame } | { success: false; error: ChatError } {
  const bad = illFormedPath(json);
  if (bad) return { success: false, error: validationError([{ path: bad, message: ILL_FORMED_MESSAGE }]) };
  const parsed = ClientFrame.safeParse(json);
  return parsed.success
    ? { success: true, data: parsed.data }
    : { success: false, error: validationError(parsed.error.issues) };
}

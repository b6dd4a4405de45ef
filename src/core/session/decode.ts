import { ClientFrame } from '../../protocol/frames.js';
import { ILL_FORMED_MESSAGE, illFormedPath, isWellFormed } from '../../protocol/well-formed.js';
import { ChatError, validationError } from '../chat-error.js';

export type Decoded = { frame: ClientFrame } | { error: ChatError; ref?: string };

/**
 * One inbound frame, decoded and validated before anything acts on it: text only, at most `maxBytes`, JSON,
 * well-formed UTF-16 everywhere (as HTTP input is, in http/validate.ts), and one of the protocol's client frames. A
 * refusal carries the catalogue error and, when readable, the frame's `ref`.
 */
export function decodeFrame(data: Uint8Array, binary: boolean, maxBytes: number): Decoded {
  if (data.length > maxBytes) {
    return { error: new ChatError('payload_too_large', { message: `Frames are at most ${maxBytes} bytes.` }) };
  }
  if (binary) return { error: new ChatError('bad_json', { message: 'Send text frames of JSON.' }) };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8'));
  } catch {
    return { error: new ChatError('bad_json') };
  }
  const checked = validate(json);
  if ('frame' in checked) return checked;
  const { error } = checked;
  const ref = (json as { ref?: unknown } | null)?.ref;
  return { error, ...(typeof ref === 'string' && isWellFormed(ref) ? { ref: ref.slice(0, 64) } : {}) };
}

/** Ill-formed UTF-16 anywhere first, then the frame schema. */
function validate(json: unknown): { frame: ClientFrame } | { error: ChatError } {
  const bad = illFormedPath(json);
  if (bad) return { error: validationError([{ path: bad, message: ILL_FORMED_MESSAGE }]) };
  const parsed = ClientFrame.safeParse(json);
  return parsed.success ? { frame: parsed.data } : { error: validationError(parsed.error.issues) };
}

import { ClientFrame } from '../../protocol/frames.js';
import { ChatError, validationError } from '../chat-error.js';

export type Decoded = { frame: ClientFrame } | { error: ChatError; ref?: string };

/**
 * One inbound frame, decoded and validated before anything acts on it: text only, at most `maxBytes`, JSON, and
 * one of the protocol's client frames. A refusal carries the catalogue error and, when readable, the frame's `ref`.
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
  const parsed = ClientFrame.safeParse(json);
  if (parsed.success) return { frame: parsed.data };
  const ref = (json as { ref?: unknown } | null)?.ref;
  return { error: validationError(parsed.error.issues), ...(typeof ref === 'string' ? { ref: ref.slice(0, 64) } : {}) };
}

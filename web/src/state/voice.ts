/** Voice notes: how long one may be, what the browser records, and what the file is called. */

/**
 * A recording stops by itself after this long (5 minutes: Opus at the browser's default ~32–64 kbit/s stays far
 * below MAX_UPLOAD_BYTES). Documented in docs/protocol.md (files, voice notes).
 */
export const VOICE_NOTE_MAX_SECONDS = 300;

/** Containers to record into, best first: Opus in WebM (Chromium, Firefox), Ogg (Firefox), MP4 (Safari). */
const FORMATS = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'] as const;

/** The first format this browser's MediaRecorder takes (none named: its own default). */
export function recordingFormat(): { mimeType: string | undefined } {
  const ok = typeof MediaRecorder === 'function' && typeof MediaRecorder.isTypeSupported === 'function';
  return { mimeType: ok ? FORMATS.find((f) => MediaRecorder.isTypeSupported(f)) : undefined };
}

const EXT: Record<string, string> = { 'audio/webm': 'webm', 'audio/ogg': 'ogg', 'audio/mp4': 'm4a' };

/** `voice-note-2026-12-07-1735.webm`: when it was recorded, in local time. */
export function voiceNoteName(at: Date, type: string): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())}-${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}`;
  return `voice-note-${stamp}.${EXT[type] ?? 'webm'}`;
}

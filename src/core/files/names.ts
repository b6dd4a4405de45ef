/** Longest stored file name, in code points (the extension is kept when a longer one is cut). */
export const FILE_NAME_MAX = 200;

// C0 and C1 controls, DEL, and the bidirectional overrides and isolates that make `evil\u202Egnp.exe` read as `.png`.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// Characters Windows refuses in names, and both path separators.
const RESERVED = /[<>:"/\\|?*]/g;

/**
 * A display name for an uploaded file, safe to show and to offer as a download name: the last path segment only
 * (`../../etc/passwd` → `passwd`, `C:\x\y.png` → `y.png`), no control or bidi-override characters, no leading or
 * trailing dots and spaces, at most FILE_NAME_MAX code points (cut before the extension), `file` when nothing is
 * left. The name is never used as a path on the server: blobs are named by their SHA-256.
 */
export function sanitizeFileName(raw: string): string {
  let name = raw.normalize('NFC');
  const lastSep = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  if (lastSep >= 0) name = name.slice(lastSep + 1);
  name = name.replace(UNSAFE, '').replace(RESERVED, '_').replace(/\s+/g, ' ');
  name = name.replace(/^[\s.]+|[\s.]+$/g, '');
  const cps = Array.from(name);
  if (cps.length > FILE_NAME_MAX) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 ? Array.from(name.slice(dot)) : [];
    const keepExt = ext.length > 1 && ext.length <= 16 ? ext : [];
    name = cps.slice(0, FILE_NAME_MAX - keepExt.length).join('') + keepExt.join('');
  }
  return name === '' ? 'file' : name;
}

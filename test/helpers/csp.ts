/** The Content-Security-Policy header as a map of directive → values (names lower-cased). */
export function cspDirectives(header: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), values);
  }
  return out;
}

/** Exactly the directives docs/security.md lists for the web client's HTML, sorted. */
export const CSP_DIRECTIVES = [
  'base-uri',
  'connect-src',
  'default-src',
  'form-action',
  'frame-ancestors',
  'img-src',
  'object-src',
  'script-src',
  'style-src',
];

/**
 * The deploy/ files are the load balancers' templates: the launchers keep them as they are except the lines
 * between `# name:begin` and `# name:end` markers (listen address, node list, balancing strategy), so what is
 * tested is what is deployed. Both HAProxy and nginx take `#` comments, so one marker syntax serves both.
 */

const blockRe = (name: string) => new RegExp(`^([ \\t]*)# ${name}:begin\\n([\\s\\S]*?)^[ \\t]*# ${name}:end$`, 'm');

/** Replaces the lines between `# name:begin` and `# name:end` (markers kept), indenting them like the markers. */
export function replaceBlock(cfg: string, name: string, lines: string[]): string {
  const re = blockRe(name);
  if (!re.test(cfg)) throw new Error(`template has no "# ${name}:begin" … "# ${name}:end" block`);
  return cfg.replace(re, (_m, indent: string) =>
    [`${indent}# ${name}:begin`, ...lines.map((l) => (l ? indent + l : l)), `${indent}# ${name}:end`].join('\n'),
  );
}

/** The lines between the markers, without the markers' indentation. */
export function readBlock(cfg: string, name: string): string[] {
  const m = blockRe(name).exec(cfg);
  if (!m) throw new Error(`template has no "# ${name}:begin" … "# ${name}:end" block`);
  const indent = m[1]!;
  return m[2]!
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
}

/** A snippet file's lines (a strategy file), trailing newline dropped. */
export function snippetLines(text: string): string[] {
  return text.replace(/\n+$/, '').split('\n');
}

/**
 * The template's first non-comment line in the `nodes` block: what every rendered node line copies (the parameters
 * after the address, e.g. nginx's `max_fails=2 fail_timeout=5s`), so only names and addresses change.
 */
export function nodeLinePattern(cfg: string): string {
  const line = readBlock(cfg, 'nodes').find((l) => l.trim() && !l.trim().startsWith('#'));
  if (!line) throw new Error('template has no server line in its nodes block');
  return line.trim();
}

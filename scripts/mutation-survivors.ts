/**
 * Lists the mutants of a Stryker JSON report that were not detected (survived, no coverage), one a line, grouped
 * by the function or method around them: the starting point of triage (docs/testing.md, "Mutation testing").
 *
 *   npx tsx scripts/mutation-survivors.ts reports/mutation/postgres.json [file-substring]
 *
 * Output: per file, the status counts, then `status  function  line:column  mutator  original => replacement`.
 */
import { readFileSync } from 'node:fs';

interface Position {
  line: number;
  column: number;
}
interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: Position; end: Position };
}
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

const [reportPath, only] = process.argv.slice(2);
if (!reportPath) {
  console.error('usage: tsx scripts/mutation-survivors.ts <stryker report.json> [file-substring]');
  process.exit(2);
}
const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
const DETECTED = new Set(['Killed', 'Timeout']);

// A declaration that starts a function, method or top-level constant (good enough for this codebase's style).
const DECLARATION =
  /^(?:export )?(?:async )?function\*? (\w+)|^ {2}(?:(?:private|protected|public|static|readonly|async|override) )*(\w+)(?:<[^>]*>)?\(|^(?:export )?const (\w+) =|^ {2}(\w+): (?:read|write|transaction)\(/;

for (const [file, { source, mutants }] of Object.entries(report.files)) {
  if (only && !file.includes(only)) continue;
  const lines = source.split('\n');
  const enclosing = (line: number): string => {
    for (let i = line - 1; i >= 0; i--) {
      const m = DECLARATION.exec(lines[i] ?? '');
      if (m) return m[1] ?? m[2] ?? m[3] ?? m[4] ?? '?';
    }
    return '(top)';
  };
  const counts: Record<string, number> = {};
  for (const m of mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
  console.log(`${file} ${JSON.stringify(counts)}`);
  const open = mutants
    .filter((m) => !DETECTED.has(m.status))
    .sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column);
  for (const m of open) {
    const { start, end } = m.location;
    const text = lines[start.line - 1] ?? '';
    const original = text.slice(start.column - 1, end.line === start.line ? end.column - 1 : undefined);
    const replacement = (m.replacement ?? '').replace(/\s+/g, ' ');
    console.log(
      [
        m.status.padEnd(10),
        enclosing(start.line).padEnd(16),
        `${start.line}:${start.column}`.padEnd(8),
        m.mutatorName.padEnd(22),
        `${original.slice(0, 60)} => ${replacement.slice(0, 70)}`,
      ].join(' '),
    );
  }
}

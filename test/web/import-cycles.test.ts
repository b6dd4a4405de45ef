/**
 * No import cycles in the web client: shared pieces live in their own modules (app/kit.tsx, state/*), and views
 * import those, never each other in a circle. Every import counts — static, type-only and `import()` — read with
 * the TypeScript compiler's own pre-processor.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const WEB_SRC = fileURLToPath(new URL('../../web/src', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Module → the modules under web/src it imports (specifiers ending `.js` name the `.ts`/`.tsx` file). */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const deps: string[] = [];
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const base = resolve(dirname(file), fileName).replace(/\.js$/, '');
      const target = [`${base}.ts`, `${base}.tsx`].find((f) => known.has(f));
      if (target) deps.push(target);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** Every cycle's members (strongly connected components of more than one module, or a module importing itself). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('web/src imports', () => {
  it('finds a cycle when there is one (the checker itself)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c'], ['e']]);
  });

  it('has no import cycle', () => {
    const graph = importGraph(sources(WEB_SRC));
    const rel = (f: string) => relative(WEB_SRC, f);
    // The graph is really read: the dialogs load the moderation and admin views with import().
    expect(graph.get(join(WEB_SRC, 'app/Dialogs.tsx'))?.map(rel)).toEqual(
      expect.arrayContaining(['app/Moderation.tsx', 'app/Admin.tsx', 'app/kit.tsx']),
    );
    expect(cycles(graph).map((c) => c.map(rel))).toEqual([]);
  });
});

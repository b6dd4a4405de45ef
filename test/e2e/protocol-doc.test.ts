import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../src/protocol/close-codes.js';
import { ERRORS, ERROR_CODES } from '../../src/protocol/errors.js';
import { createChatServer, type ChatServer } from '../../src/server/app.js';
import { testConfig } from '../helpers/harness.js';

/**
 * docs/protocol.md is the reference for other clients: its error catalogue (§6.2) and route table (§3.2) are held
 * against the code, as the README's configuration table is (test/unit/config.test.ts).
 */

const doc = readFileSync('docs/protocol.md', 'utf8');

/** The rows of the first Markdown table under `heading`, as cells (backticks and padding stripped). */
function tableUnder(heading: string): string[][] {
  const start = doc.indexOf(`\n${heading}\n`);
  expect(start, `docs/protocol.md has "${heading}"`).toBeGreaterThan(0);
  const lines = doc.slice(start).split('\n').slice(2);
  const rows: string[][] = [];
  let inTable = false;
  for (const line of lines) {
    if (line.startsWith('|')) {
      inTable = true;
      rows.push(
        line
          .slice(1, -1)
          .split(/(?<!\\)\|/)
          .map((c) => c.trim()),
      );
    } else if (inTable || line.startsWith('#')) break;
  }
  return rows.slice(2); // header and separator
}

const unquote = (cell: string) => cell.replace(/^`|`$/g, '');

/**
 * Every METHOD + path registered on Fastify, read from `printRoutes` (a radix tree: a node's path is its parent's
 * plus its own label). HEAD routes are Fastify's automatic companions of GET.
 */
function registeredRoutes(server: ChatServer): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of server.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)(?:[├└]── )?(.+?)(?: \(([^)]*)\))?$/u.exec(line);
    if (!m || !m[2]) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = (depth === 0 ? '' : stack[depth - 1]!) + m[2];
    stack[depth] = path;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) {
      if (method !== 'HEAD') out.add(`${method} ${path}`);
    }
  }
  return out;
}

describe('docs/protocol.md against the code', () => {
  let server: ChatServer;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'relaychat-doc-'));
    server = await createChatServer(testConfig(dataDir));
    await server.app.ready();
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the error catalogue (§6.2) lists every code with its HTTP status and retryable flag, and nothing else', () => {
    const rows = tableUnder('### 6.2 Error catalog');
    const documented = rows.map((r) => unquote(r[0]!));
    expect([...documented].sort()).toEqual([...ERROR_CODES].sort());
    for (const [code, status, retryable] of rows) {
      const entry = ERRORS[unquote(code!) as keyof typeof ERRORS];
      expect([unquote(code!), Number(status)], 'HTTP status').toEqual([unquote(code!), entry.status]);
      expect([unquote(code!), retryable], 'retryable').toEqual([unquote(code!), entry.retryable ? 'yes' : 'no']);
    }
  });

  it('the close codes (§6.3) list every code the server uses, by name, with whether to reconnect', () => {
    const rows = tableUnder('### 6.3 WebSocket close codes');
    for (const [name, entry] of Object.entries(CLOSE_CODES)) {
      const row = rows.find((r) => unquote(r[1]!) === name);
      expect(row, name).toBeDefined();
      expect([name, Number(unquote(row![0]!))]).toEqual([name, entry.code]);
      expect([name, row![2]!.startsWith('yes')]).toEqual([name, entry.reconnect]);
    }
  });

  it('the route table (§3.2) lists exactly the API routes the server registers', () => {
    const documented = new Set(
      tableUnder('### 3.2 Route table').map(([method, path]) => `${unquote(method!)} ${unquote(path!)}`),
    );
    // The web client's static files (src/server/http/static.ts) are not API; everything else is.
    const api = [...registeredRoutes(server)].filter((r) =>
      /^\S+ \/(api\/|healthz$|readyz$|metrics$|api\/v1$)/.test(r),
    );
    expect(api.length).toBeGreaterThan(40);
    expect([...documented].sort()).toEqual(api.sort());
  });
});

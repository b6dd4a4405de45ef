import { request, type Agent } from 'node:http';
/** Bench setup over relaychat's HTTP API: users, rooms, memberships. Concurrency-limited, every call timed out. */

export const BENCH_PASSWORD = 'bench-password-1';
const CALL_TIMEOUT_MS = 30_000;

export async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, run));
  return out;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  // Bounded retries for transient failures only (a refused or reset connection, 503); anything else throws.
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
    } catch (err) {
      if (attempt < 3) {
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        continue;
      }
      throw new Error(`${method} ${path}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    if (res.status === 503 && attempt < 3) {
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      continue;
    }
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new HttpError(res.status, e?.code ?? 'http', `${method} ${path}: ${res.status} ${e?.code}: ${e?.message}`);
    }
    return json as T;
  }
}

export interface BenchUser {
  id: string;
  username: string;
  token: string;
}

/** Registers `n` users named `<prefix><i>` (50 in flight by default). Every one joins the lobby (server rule). */
export async function registerUsers(base: string, n: number, prefix: string, concurrency = 50): Promise<BenchUser[]> {
  const ids = Array.from({ length: n }, (_, i) => i);
  return mapLimit(ids, concurrency, async (i) => {
    const username = `${prefix}${String(i).padStart(5, '0')}`;
    const r = await api<{ token: string; user: { id: string } }>(base, 'POST', '/api/v1/auth/register', {
      username,
      password: BENCH_PASSWORD,
    });
    return { id: r.user.id, username, token: r.token };
  });
}

/**
 * Creates one public room per group and fills it: the group's first user creates it (and owns it), the
 * others join it. Returns the room ids, in group order.
 */
export async function buildRooms(base: string, groups: BenchUser[][], concurrency = 50): Promise<string[]> {
  const roomIds = await mapLimit(groups, concurrency, async (g, k) => {
    const r = await api<{ room: { id: string } }>(
      base,
      'POST',
      '/api/v1/rooms',
      { name: `bench room ${k}` },
      g[0]!.token,
    );
    return r.room.id;
  });
  const joins: { token: string; roomId: string }[] = [];
  groups.forEach((g, k) => {
    for (const u of g.slice(1)) joins.push({ token: u.token, roomId: roomIds[k]! });
  });
  await mapLimit(joins, concurrency, (x) => api(base, 'POST', `/api/v1/rooms/${x.roomId}/join`, undefined, x.token));
  return roomIds;
}

/** Leaves the lobby for each user (so a scenario's rooms are the only rooms its clients are in). */
export async function leaveLobby(base: string, users: BenchUser[], concurrency = 50): Promise<void> {
  await mapLimit(users, concurrency, (u) => api(base, 'POST', '/api/v1/rooms/lobby/leave', undefined, u.token));
}

/**
 * One authenticated GET of `path` on `agent` (a keep-alive agent sized to the loop's concurrency), body drained;
 * resolves with the status, or 0 on an error or after 10 s. For closed-loop latency scenarios (history, search).
 */
export function timedGet(agent: Agent, base: URL, path: string, token: string): Promise<number> {
  return new Promise<number>((resolve) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        path,
        method: 'GET',
        headers: { authorization: `Bearer ${token}` },
        timeout: 10_000,
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end();
  });
}

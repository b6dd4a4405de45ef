import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressRefusal } from './address-policy.js';

/**
 * An HTTP GET that will only talk to public addresses (SSRF guard for link previews). Per hop it:
 * 1. parses the URL (WHATWG, so every IPv4 spelling is canonical) and allows only http/https, no credentials, and the
 *    ports in `ports`;
 * 2. resolves the host itself and checks EVERY address it resolves to (addressRefusal); one bad address refuses
 *    the hop, so a name that resolves to a public and a private address is refused;
 * 3. connects to exactly the address it checked: the request's `lookup` hands the socket that address instead of
 *    resolving again, so a DNS answer that changes between check and connect (DNS rebinding) cannot redirect it;
 * 4. follows at most `maxRedirects` redirects, each one a new hop through 1–3.
 * One deadline (`timeoutMs`) covers resolving, connecting, every redirect and the body; the body is read up to
 * `maxBytes` and the socket closed there. Nothing is sent but a GET with no cookies or credentials.
 */

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

export interface SafeFetchOptions {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  /** Ports a URL may name; 'any' only in tests of the address policy itself. */
  ports: ReadonlySet<number> | 'any';
  /**
   * `address:port` pairs (`[v6]:port` for IPv6) let through whatever the address policy says: a test-only hole for
   * a local test server (LINK_PREVIEW_ALLOW_HOSTS). Empty in production.
   */
  allow: ReadonlySet<string>;
  /** Content types (lower case, no parameters) the caller wants; anything else is refused before the body. */
  types: readonly string[];
  /** When the body passes `maxBytes`: keep the first `maxBytes` (an HTML head) or refuse (an image). */
  overflow: 'truncate' | 'refuse';
  /** DNS resolution (all addresses); tests inject a stub. */
  resolve?: Resolver;
  /**
   * Webhook deliveries (issue 16): a POST of `body` with these headers instead of a GET; the answer's body is read
   * like any other (capped) and its type not checked (`types` is ignored).
   */
  post?: { body: Buffer; headers: Record<string, string> };
  /** The operator allows loopback and private addresses (WEBHOOK_ALLOW_PRIVATE_TARGETS): the address policy is off. */
  allowPrivate?: boolean;
}

export interface Fetched {
  /** The URL the body came from (after redirects). */
  url: string;
  /** Lower case, without parameters. */
  contentType: string;
  charset: string | null;
  body: Buffer;
  truncated: boolean;
  /** The answer's HTTP status (2xx). */
  status: number;
}

/** The guard said no (a machine-readable reason for logs and tests), or the fetch failed. */
export class FetchRefused extends Error {
  constructor(
    readonly reason: string,
    /** The HTTP status, when the refusal is the answer's status. */
    readonly status: number | null = null,
  ) {
    super(`link preview fetch refused: ${reason}`);
  }
}

export const DEFAULT_PREVIEW_PORTS: ReadonlySet<number> = new Set([80, 443, 8080, 8443]);
const USER_AGENT = 'relaychat-link-preview/1 (+https://github.com/relaychat)';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

/** Checks one hop's URL and addresses; returns where to connect. Throws FetchRefused. */
async function checkHop(
  url: URL,
  opts: SafeFetchOptions,
  deadline: Promise<never>,
): Promise<{ address: string; family: number; port: number }> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FetchRefused(`scheme ${url.protocol}`);
  if (url.username || url.password) throw new FetchRefused('credentials in URL');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw new FetchRefused('no host');
  const literal = isIP(host);
  const addresses = literal
    ? [{ address: host, family: literal }]
    : await Promise.race([
        (opts.resolve ?? systemResolver)(host).catch((err: Error) => {
          throw new FetchRefused(`resolve failed (${(err as NodeJS.ErrnoException).code ?? err.message})`);
        }),
        deadline,
      ]);
  if (addresses.length === 0) throw new FetchRefused('host resolves to nothing');
  // Every address, not just the one connected to: a resolver may order them differently next time.
  for (const a of addresses) {
    const key = a.family === 6 ? `[${a.address}]:${port}` : `${a.address}:${port}`;
    if (opts.allow.has(key) || opts.allowPrivate) continue;
    if (opts.ports !== 'any' && !opts.ports.has(port)) throw new FetchRefused(`port ${port}`);
    const refusal = addressRefusal(a.address);
    if (refusal) throw new FetchRefused(`address ${a.address}: ${refusal}`);
  }
  return { ...addresses[0]!, port };
}

/** A `lookup` that answers with the checked address, whatever the name: the socket connects where we checked. */
function pinnedLookup(address: string, family: number): LookupFunction {
  return (_host, options, callback) => {
    const cb = callback as (...args: unknown[]) => void;
    if ((options as { all?: boolean }).all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  };
}

function mediaType(header: string | undefined): { type: string; charset: string | null } {
  const [type = '', ...params] = (header ?? '').split(';');
  const charset = params.map((p) => p.trim().match(/^charset\s*=\s*"?([^";]+)"?$/i)?.[1]).find((c) => c !== undefined);
  return { type: type.trim().toLowerCase(), charset: charset?.toLowerCase() ?? null };
}

/** GETs `raw` under the SSRF policy above. Rejects with FetchRefused. */
export async function safeFetch(raw: string, opts: SafeFetchOptions): Promise<Fetched> {
  const abort = new AbortController();
  let onTimeout: () => void = () => {};
  const deadline = new Promise<never>((_, reject) => {
    onTimeout = () => reject(new FetchRefused(`timed out after ${opts.timeoutMs} ms`));
  });
  deadline.catch(() => {});
  const timer = setTimeout(() => {
    onTimeout();
    abort.abort();
  }, opts.timeoutMs);
  try {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new FetchRefused('malformed URL');
    }
    for (let hop = 0; ; hop++) {
      const target = await checkHop(url, opts, deadline);
      const res = await Promise.race([request(url, target, opts, abort.signal), deadline]);
      const status = res.statusCode ?? 0;
      if (REDIRECTS.has(status) && res.headers.location) {
        res.destroy();
        if (hop >= opts.maxRedirects) throw new FetchRefused(`more than ${opts.maxRedirects} redirects`);
        try {
          url = new URL(res.headers.location, url);
        } catch {
          throw new FetchRefused('malformed redirect');
        }
        continue;
      }
      if (status < 200 || status > 299) {
        res.destroy();
        throw new FetchRefused(`status ${status}`, status);
      }
      const { type, charset } = mediaType(res.headers['content-type']);
      if (!opts.post && !opts.types.includes(type)) {
        res.destroy();
        throw new FetchRefused(`content type ${type || '(none)'}`);
      }
      const length = Number(res.headers['content-length']);
      if (opts.overflow === 'refuse' && length > opts.maxBytes) {
        res.destroy();
        throw new FetchRefused(`content-length ${length} over ${opts.maxBytes}`);
      }
      const { body, truncated } = await Promise.race([readCapped(res, opts), deadline]);
      return { url: url.href, contentType: type, charset, body, truncated, status };
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

function request(
  url: URL,
  target: { address: string; family: number; port: number },
  opts: SafeFetchOptions,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method: opts.post ? 'POST' : 'GET',
        // No keep-alive pool: each hop gets its own socket to its own checked address.
        agent: false,
        port: target.port,
        lookup: pinnedLookup(target.address, target.family),
        signal,
        headers: opts.post
          ? { ...opts.post.headers, 'content-length': String(opts.post.body.length), 'accept-encoding': 'identity' }
          : {
              'user-agent': USER_AGENT,
              accept: opts.types.join(', '),
              'accept-encoding': 'identity',
            },
      },
      resolve,
    );
    req.on('error', (err) =>
      reject(new FetchRefused(`request failed (${(err as NodeJS.ErrnoException).code ?? err.message})`)),
    );
    req.end(opts.post?.body);
  });
}

/** Reads the body up to `maxBytes`, closing the socket there (never buffering more than one chunk beyond). */
function readCapped(res: IncomingMessage, opts: SafeFetchOptions): Promise<{ body: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.on('data', (chunk: Buffer) => {
      if (done) return;
      const room = opts.maxBytes - size;
      if (chunk.length > room) {
        done = true;
        res.destroy();
        if (opts.overflow === 'refuse') return reject(new FetchRefused(`body over ${opts.maxBytes} bytes`));
        chunks.push(chunk.subarray(0, room));
        return resolve({ body: Buffer.concat(chunks), truncated: true });
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    res.on('end', () => {
      if (!done) resolve({ body: Buffer.concat(chunks), truncated: false });
      done = true;
    });
    res.on('error', (err) => {
      if (!done) reject(new FetchRefused(`body failed (${err.message})`));
      done = true;
    });
    res.on('close', () => {
      if (!done) reject(new FetchRefused('connection closed mid-body'));
      done = true;
    });
  });
}

/**
 * Checks a URL against the same policy without fetching it (scheme, credentials, port, every address it resolves to):
 * null when a fetch would be allowed to connect, else the reason. For a webhook target when it is created.
 */
export async function checkUrl(raw: string, opts: SafeFetchOptions): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'malformed URL';
  }
  let onTimeout: () => void = () => {};
  const deadline = new Promise<never>((_, reject) => {
    onTimeout = () => reject(new FetchRefused(`timed out after ${opts.timeoutMs} ms`));
  });
  deadline.catch(() => {});
  const timer = setTimeout(() => onTimeout(), opts.timeoutMs);
  try {
    await checkHop(url, opts, deadline);
    return null;
  } catch (err) {
    if (err instanceof FetchRefused) return err.reason;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

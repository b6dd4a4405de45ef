import type { IncomingMessage } from 'node:http';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { trustProxyOption, type Config } from './config.js';

/** Whether the address at `hop` (0 = the TCP peer, 1 = the entry it forwarded, …) is a proxy we believe. */
export type ProxyTrust = (addr: string, hop: number) => boolean;

/** `::ffff:10.0.0.1` → `10.0.0.1`, so IPv4 rules match IPv4 peers on a dual-stack socket. */
function unmapped(addr: string): string {
  return addr.toLowerCase().startsWith('::ffff:') && isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
}

/**
 * The TRUST_PROXY setting as a predicate, with Fastify's semantics (so the WebSocket upgrade, which Fastify never
 * sees, judges addresses exactly as `request.ip` does): `true`/`false`, a hop count, or addresses/CIDRs.
 */
export function compileProxyTrust(setting: string): ProxyTrust {
  const option = trustProxyOption(setting);
  if (typeof option === 'boolean') return () => option;
  if (typeof option === 'function') return option;
  const list = new BlockList();
  for (const entry of option) {
    const [ip = '', bits] = entry.split('/');
    const type = isIPv6(ip) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(bits), type);
  }
  return (addr) => {
    const a = unmapped(addr);
    if (isIPv4(a)) return list.check(a, 'ipv4');
    return isIPv6(a) && list.check(a, 'ipv6');
  };
}

/**
 * The client's address: the TCP peer, or — walking `X-Forwarded-For` from the right while each hop is a trusted
 * proxy — the first address not vouched for by one (what `request.ip` gives for HTTP requests).
 */
export function clientAddress(req: IncomingMessage, trust: ProxyTrust): string {
  const peer = req.socket.remoteAddress ?? '';
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .reverse();
  const chain = [peer, ...forwarded];
  for (let hop = 0; hop < chain.length - 1; hop++) {
    if (!trust(chain[hop]!, hop)) return unmapped(chain[hop]!);
  }
  return unmapped(chain[chain.length - 1]!);
}

/** `https` on a TLS socket, or when a trusted proxy says so in `X-Forwarded-Proto`; else `http` (as `request.protocol`). */
export function requestScheme(req: IncomingMessage, trust: ProxyTrust): string {
  const proto = req.headers['x-forwarded-proto'];
  if (typeof proto === 'string' && proto && trust(req.socket.remoteAddress ?? '', 0)) {
    return proto.split(',').pop()!.trim().toLowerCase();
  }
  return (req.socket as TLSSocket).encrypted ? 'https' : 'http';
}

/** Parses ALLOWED_ORIGINS (validated by config): the exact origins, or undefined for "the server's own". */
export function parseAllowedOrigins(setting: string): ReadonlySet<string> | undefined {
  const list = setting
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list.length > 0 ? new Set(list) : undefined;
}

/**
 * Cross-site WebSocket hijacking defence: the upgrade's `Origin` must equal one of ALLOWED_ORIGINS exactly, or —
 * when that is empty — the server's own origin, `scheme://Host` of the request itself. A missing Origin, `null`,
 * a look-alike host or another scheme or port is refused. (Browsers always send the page's origin; the SDK, CLI and
 * bench send the origin of the URL they connect to.)
 */
export function originAllowed(
  req: IncomingMessage,
  allowed: ReadonlySet<string> | undefined,
  trust: ProxyTrust,
): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || origin === '') return false;
  if (allowed) return allowed.has(origin);
  const host = req.headers.host;
  if (!host) return false;
  return origin === `${requestScheme(req, trust)}://${host.toLowerCase()}`;
}

/**
 * Headers on every HTTP response: `nosniff`; HSTS on HTTPS (TLS here, or `X-Forwarded-Proto: https` from a trusted
 * proxy) unless HSTS_MAX_AGE is 0; and `no-store` on the API, whose answers are per-user and authenticated.
 * The web client's HTML gets its Content-Security-Policy in http/static.ts.
 */
export function installSecurityHeaders(app: FastifyInstance, config: Pick<Config, 'hstsMaxAge'>): void {
  const hsts = config.hstsMaxAge > 0 ? `max-age=${config.hstsMaxAge}` : undefined;
  app.addHook('onSend', async (req, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    if (hsts && req.protocol === 'https') void reply.header('strict-transport-security', hsts);
    // A route that set its own (file downloads: private, revalidated by ETag) keeps it.
    if (req.url.startsWith('/api/') && !reply.hasHeader('cache-control'))
      void reply.header('cache-control', 'no-store');
    return payload;
  });
}

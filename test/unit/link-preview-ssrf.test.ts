import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { addressRefusal } from '../../src/server/previews/address-policy.js';
import {
  DEFAULT_PREVIEW_PORTS,
  FetchRefused,
  safeFetch,
  type Resolver,
  type SafeFetchOptions,
} from '../../src/server/previews/safe-fetch.js';

/**
 * The link-preview SSRF guard (src/server/previews/): every refused address class by bytes, every URL spelling of a
 * loopback address refused before any connection reaches a local listener, redirects re-checked, DNS answers checked
 * in full and connected to exactly as checked (rebinding), the deadline and the byte cap. Local servers only.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A raw TCP listener that counts connections (and answers a minimal HTTP page, so a fetch that gets through ends). */
async function countingListener(host = '127.0.0.1', port = 0): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    n++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.once('data', () =>
      s.end('HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 27\r\n\r\n<title>reached it</title>\n\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as AddressInfo).port, connections: () => n };
}

/** A local HTTP server with a handler; counts requests. */
async function httpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host = '127.0.0.1',
  port = 0,
): Promise<{ port: number; url: string; requests: () => number }> {
  let n = 0;
  const server = createHttpServer((req, res) => {
    n++;
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  const p = (server.address() as AddressInfo).port;
  return { port: p, url: `http://${host}:${p}`, requests: () => n };
}

const opts = (over: Partial<SafeFetchOptions> = {}): SafeFetchOptions => ({
  timeoutMs: 3000,
  maxBytes: 64 * 1024,
  maxRedirects: 3,
  ports: 'any',
  allow: new Set(),
  types: ['text/html'],
  overflow: 'truncate',
  ...over,
});

async function refusal(url: string, o: SafeFetchOptions): Promise<string> {
  const err = await safeFetch(url, o).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `${url} must be refused`).toBeInstanceOf(FetchRefused);
  return (err as FetchRefused).reason;
}

describe('address policy (by bytes)', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.255', /carrier-grade NAT/],
    ['169.254.169.254', /link-local/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['240.0.0.1', /reserved/],
    ['255.255.255.255', /broadcast|reserved/],
    ['192.0.0.8', /IETF/],
    ['192.0.2.1', /documentation/],
    ['198.18.0.1', /benchmarking/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['0:0:0:0:0:0:0:1', /loopback/],
    ['::ffff:127.0.0.1', /IPv4-mapped loopback/],
    ['::ffff:7f00:1', /IPv4-mapped loopback/],
    ['::ffff:10.0.0.1', /IPv4-mapped private/],
    ['::ffff:169.254.169.254', /IPv4-mapped link-local/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['::8.8.8.8', /IPv4-compatible/],
    ['64:ff9b::127.0.0.1', /NAT64 loopback/],
    ['64:ff9b::7f00:1', /NAT64 loopback/],
    ['64:ff9b::a9fe:a9fe', /NAT64 link-local/],
    ['64:ff9b:1::1', /local-use NAT64/],
    ['2002:7f00:1::1', /6to4 loopback/],
    ['2002:c0a8:101::1', /6to4 private/],
    ['fc00::1', /unique local/],
    ['fd12:3456::1', /unique local/],
    ['fe80::1', /link-local/],
    ['febf::1', /link-local/],
    ['ff02::1', /multicast/],
    ['fec0::1', /reserved IPv6/],
    ['100::1', /reserved IPv6/],
    ['2001::1', /Teredo/],
    ['2001:db8::1', /documentation/],
    ['fe80::1%eth0', /not an IP/],
    ['localhost', /not an IP/],
    ['127.1', /not an IP/],
  ])('refuses %s', (address, reason) => {
    expect(addressRefusal(address)).toMatch(reason);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.32.0.1',
    '100.128.0.1',
    '169.255.0.1',
    '11.0.0.1',
    '223.255.255.254',
    '2606:4700:4700::1111',
    '2a00:1450:4001:81c::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
  ])('lets public %s through', (address) => {
    expect(addressRefusal(address)).toBeNull();
  });
});

describe('safeFetch: refused before any connection', () => {
  it('every spelling of a loopback address in a URL is refused and no connection reaches the listener', async () => {
    const l = await countingListener('127.0.0.1');
    const v6 = await countingListener('::1').catch(() => null);
    const P = l.port;
    const spellings = [
      `http://127.0.0.1:${P}/`,
      `http://2130706433:${P}/`, // decimal
      `http://0177.0.0.1:${P}/`, // octal
      `http://0x7f.1:${P}/`, // hex, short
      `http://0x7f000001:${P}/`, // hex, one number
      `http://017700000001:${P}/`, // octal, one number
      `http://127.1:${P}/`, // short
      `http://127.0.1:${P}/`,
      `http://0:${P}/`, // 0.0.0.0 connects to loopback on Linux
      `http://0.0.0.0:${P}/`,
      `http://[::ffff:127.0.0.1]:${P}/`, // IPv4-mapped
      `http://[::ffff:7f00:1]:${P}/`,
      `http://[0:0:0:0:0:ffff:127.0.0.1]:${P}/`,
      `http://[::127.0.0.1]:${P}/`, // IPv4-compatible
      `http://[64:ff9b::127.0.0.1]:${P}/`, // NAT64
      `http://[::1]:${P}/`,
      `http://[::]:${P}/`,
      `http://localhost:${P}/`, // a name that resolves to loopback (system resolver, /etc/hosts)
      `https://127.0.0.1:${P}/`,
      `HTTP://127.0.0.1:${P}/`,
    ];
    for (const url of spellings) {
      expect(await refusal(url, opts()), url).toMatch(/address .*(loopback|unspecified|IPv4-compatible)/);
    }
    if (v6) expect(await refusal(`http://[::1]:${v6.port}/`, opts())).toMatch(/loopback/);
    // Positive marker: the same listener, allow-listed, is reached — so the zero above is not a dead listener.
    const ok = await safeFetch(`http://127.0.0.1:${P}/`, opts({ allow: new Set([`127.0.0.1:${P}`]) }));
    expect(ok.body.toString()).toContain('reached it');
    expect(l.connections()).toBe(1);
    if (v6) {
      await safeFetch(`http://[::1]:${v6.port}/`, opts({ allow: new Set([`[::1]:${v6.port}`]) }));
      expect(v6.connections()).toBe(1);
    }
  });

  it('checks every resolved address: one private answer among public ones refuses the host', async () => {
    const l = await countingListener();
    const resolve: Resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    expect(await refusal(`http://mixed.test:${l.port}/`, opts({ resolve }))).toMatch(/127\.0\.0\.1: loopback/);
    const mapped: Resolver = async () => [{ address: '::ffff:127.0.0.1', family: 6 }];
    expect(await refusal(`http://mapped.test:${l.port}/`, opts({ resolve: mapped }))).toMatch(/IPv4-mapped/);
    const nothing: Resolver = async () => [];
    expect(await refusal(`http://empty.test:${l.port}/`, opts({ resolve: nothing }))).toMatch(/resolves to nothing/);
    const failing: Resolver = async () => {
      throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
    };
    expect(await refusal(`http://nx.test:${l.port}/`, opts({ resolve: failing }))).toMatch(/ENOTFOUND/);
    await safeFetch(`http://127.0.0.1:${l.port}/`, opts({ allow: new Set([`127.0.0.1:${l.port}`]) }));
    expect(l.connections()).toBe(1);
  });

  it('schemes, credentials and ports outside the policy are refused', async () => {
    const l = await countingListener();
    const allow = new Set([`127.0.0.1:${l.port}`]);
    for (const url of ['ftp://127.0.0.1/', 'file:///etc/passwd', 'gopher://127.0.0.1:70/', 'data:text/html,hi']) {
      expect(await refusal(url, opts({ allow }))).toMatch(/scheme/);
    }
    expect(await refusal(`http://user:pw@127.0.0.1:${l.port}/`, opts({ allow }))).toMatch(/credentials/);
    expect(await refusal('not a url', opts())).toMatch(/malformed/);
    // The production port set: only 80, 443, 8080, 8443 — a public-looking host on another port is refused unresolved.
    let resolved = 0;
    const resolve: Resolver = async () => {
      resolved++;
      return [{ address: '93.184.216.34', family: 4 }];
    };
    expect(await refusal('http://example.test:22/', opts({ ports: DEFAULT_PREVIEW_PORTS, resolve }))).toMatch(
      /port 22/,
    );
    expect(resolved).toBe(1);
    expect([...DEFAULT_PREVIEW_PORTS]).toEqual([80, 443, 8080, 8443]);
    await safeFetch(`http://127.0.0.1:${l.port}/`, opts({ allow }));
    expect(l.connections()).toBe(1);
  });
});

describe('safeFetch: redirects', () => {
  it('a redirect to a forbidden address (any spelling, or a name resolving to one) is refused before connecting', async () => {
    const inner = await countingListener();
    let target = '';
    const outer = await httpServer((_req, res) => {
      res.writeHead(302, { location: target }).end();
    });
    const allow = new Set([`127.0.0.1:${outer.port}`]);
    for (const t of [
      `http://127.0.0.1:${inner.port}/admin`,
      `http://2130706433:${inner.port}/`,
      `http://[::ffff:127.0.0.1]:${inner.port}/`,
      `http://localhost:${inner.port}/`,
      `http://0x7f.1:${inner.port}/`,
    ]) {
      target = t;
      expect(await refusal(`${outer.url}/start`, opts({ allow })), t).toMatch(/loopback/);
    }
    target = `http://rebound.test:${inner.port}/`;
    const resolve: Resolver = async () => [{ address: '10.0.0.7', family: 4 }];
    expect(await refusal(`${outer.url}/start`, opts({ allow, resolve }))).toMatch(/10\.0\.0\.7: private/);
    expect(outer.requests()).toBe(6);
    // Marker: allow-listing the inner listener lets the very same redirect through to it.
    target = `http://127.0.0.1:${inner.port}/admin`;
    const ok = await safeFetch(`${outer.url}/start`, opts({ allow: new Set([...allow, `127.0.0.1:${inner.port}`]) }));
    expect(ok.url).toBe(`http://127.0.0.1:${inner.port}/admin`);
    expect(inner.connections()).toBe(1);
  });

  it('follows at most maxRedirects, and a relative Location resolves against the current URL', async () => {
    const srv = await httpServer((req, res) => {
      const n = Number(req.url!.slice(1)) || 0;
      if (n < 10) res.writeHead(301, { location: `/${n + 1}` }).end();
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<title>ten</title>');
    });
    const allow = new Set([`127.0.0.1:${srv.port}`]);
    expect(await refusal(`${srv.url}/0`, opts({ allow, maxRedirects: 3 }))).toMatch(/more than 3 redirects/);
    expect(srv.requests()).toBe(4);
    const ok = await safeFetch(`${srv.url}/7`, opts({ allow, maxRedirects: 3 }));
    expect(ok.url).toBe(`${srv.url}/10`);
  });
});

describe('safeFetch: DNS rebinding', () => {
  it('connects to the address it checked, not to what the name resolves to next', async () => {
    // Two servers on one port: the checked one (127.0.0.1, allow-listed) and the rebinding target (127.0.0.2), which
    // a second resolution would give.
    const evil = await countingListener('127.0.0.2');
    const good = await httpServer(
      (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<title>the checked one</title>'),
      '127.0.0.1',
      evil.port,
    );
    let calls = 0;
    const resolve: Resolver = async () =>
      ++calls === 1 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '127.0.0.2', family: 4 }];
    const ok = await safeFetch(
      `http://rebind.test:${good.port}/`,
      opts({ resolve, allow: new Set([`127.0.0.1:${good.port}`]) }),
    );
    expect(ok.body.toString()).toContain('the checked one');
    expect(calls).toBe(1);
    expect(good.requests()).toBe(1);
    expect(evil.connections()).toBe(0);
    // And the other order: a name whose first answer is forbidden is refused outright, reaching neither.
    calls = 1;
    expect(await refusal(`http://rebind.test:${good.port}/`, opts({ resolve }))).toMatch(/127\.0\.0\.2: loopback/);
    expect(good.requests()).toBe(1);
    expect(evil.connections()).toBe(0);
  });

  it('each redirect hop resolves afresh and is checked again (a name that rebinds between hops)', async () => {
    const target = await countingListener();
    const hop = await httpServer((_req, res) =>
      res.writeHead(302, { location: `http://flip.test:${target.port}/` }).end(),
    );
    let calls = 0;
    // Both hops resolve to 127.0.0.1, allow-listed only on the first hop's port: the redirect is judged afresh.
    const resolve: Resolver = async () => (++calls, [{ address: '127.0.0.1', family: 4 }]);
    const reason = await refusal(
      `http://flip.test:${hop.port}/`,
      opts({ resolve, allow: new Set([`127.0.0.1:${hop.port}`]) }),
    );
    expect(reason).toMatch(/loopback/);
    expect(calls).toBe(2);
    expect(hop.requests()).toBe(1);
    expect(target.connections()).toBe(0);
  });
});

describe('safeFetch: deadline, byte cap, content type', () => {
  it('a server that never answers is cut at the deadline', async () => {
    const silent = createServer(() => {});
    const sockets: Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), silent.close(() => r()))));
    const port = (silent.address() as AddressInfo).port;
    const started = Date.now();
    const reason = await refusal(
      `http://127.0.0.1:${port}/`,
      opts({ allow: new Set([`127.0.0.1:${port}`]), timeoutMs: 300 }),
    );
    expect(reason).toMatch(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a body that trickles forever is cut at the deadline too', async () => {
    const srv = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<title>slow</title>');
      const t = setInterval(() => res.write(' '), 20);
      res.on('close', () => clearInterval(t));
    });
    const reason = await refusal(`${srv.url}/`, opts({ allow: new Set([`127.0.0.1:${srv.port}`]), timeoutMs: 300 }));
    expect(reason).toMatch(/timed out/);
  });

  it('an endless page is read up to maxBytes and the connection closed there; images over the cap are refused', async () => {
    let written = 0;
    let closedAt = -1;
    const srv = await httpServer((req, res) => {
      if (req.url === '/image') {
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(1_000_000) });
        res.end(Buffer.alloc(1_000_000));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.write('<html><head><title>big page</title></head><body>');
      const chunk = 'x'.repeat(4096);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => (closedAt = written));
      pump();
    });
    const allow = new Set([`127.0.0.1:${srv.port}`]);
    const page = await safeFetch(`${srv.url}/`, opts({ allow, maxBytes: 16 * 1024 }));
    expect(page.truncated).toBe(true);
    expect(page.body.length).toBe(16 * 1024);
    expect(page.body.toString()).toContain('<title>big page</title>');
    // The server saw its connection closed long before "forever" (socket buffers hold a few hundred KB at most).
    await expect.poll(() => closedAt, { timeout: 3000 }).toBeGreaterThanOrEqual(0);
    expect(closedAt).toBeLessThan(8 * 1024 * 1024);
    expect(
      await refusal(`${srv.url}/image`, opts({ allow, types: ['image/png'], overflow: 'refuse', maxBytes: 1000 })),
    ).toMatch(/content-length 1000000 over 1000/);
  });

  it('only the wanted content types are read', async () => {
    const srv = await httpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const allow = new Set([`127.0.0.1:${srv.port}`]);
    expect(await refusal(`${srv.url}/`, opts({ allow }))).toMatch(/content type application\/json/);
    const err = await httpServer((_req, res) => res.writeHead(500, { 'content-type': 'text/html' }).end('x'));
    expect(await refusal(`${err.url}/`, opts({ allow: new Set([`127.0.0.1:${err.port}`]) }))).toMatch(/status 500/);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket, type ClientOptions } from 'ws';
import { createChatServer } from '../../src/server/app.js';
import { ConfigError, loadConfig } from '../../src/server/config.js';
import { clientAddress, compileProxyTrust } from '../../src/server/transport-security.js';
import { CSP_DIRECTIVES, cspDirectives } from '../helpers/csp.js';
import { connect, registerUser, startServer, testConfig, waitFor } from '../helpers/harness.js';
import { launchBrowser } from '../web/browser.js';

/**
 * Transport and browser security: the WebSocket Origin check (cross-site WebSocket hijacking), the per-IP
 * connection cap, security headers, TLS with HSTS, and tokens kept out of URLs and logs.
 */

/** Tries a WebSocket upgrade; resolves to 101 when it opened (then closes it), else the HTTP status refused with. */
function upgradeStatus(
  wsUrl: string,
  opts: ClientOptions = {},
): Promise<{ status: number; retryAfter?: string; ws?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { handshakeTimeout: 5000, ...opts });
    ws.once('open', () => resolve({ status: 101, ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

const wsOf = (url: string) => `${url.replace(/^http/, 'ws')}/ws`;

/** Opens a socket that stays open for the test (closed at teardown). */
async function openSocket(url: string, opts: ClientOptions = {}): Promise<WebSocket> {
  const r = await upgradeStatus(wsOf(url), { origin: new URL(url).origin, ...opts });
  if (!r.ws) throw new Error(`expected the upgrade to succeed, got ${r.status}`);
  const ws = r.ws;
  ws.on('error', () => {});
  onTestFinished(() => ws.terminate());
  return ws;
}

/** Sends hello on an open socket and resolves with the first frame back. */
function hello(ws: WebSocket, token: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    ws.once('message', (d) => {
      // The first message may be an array of frames (welcome, then what followed it in the same turn).
      const parsed = JSON.parse(String(d)) as Record<string, unknown> | Record<string, unknown>[];
      resolve(Array.isArray(parsed) ? parsed[0]! : parsed);
    });
    ws.send(JSON.stringify({ type: 'hello', v: 1, token }));
  });
}

/** `default-src 'self'; script-src 'self'` → { 'default-src': ["'self'"], … } */
describe('WebSocket Origin check (cross-site WebSocket hijacking)', () => {
  it('refuses bad, look-alike, wrong-scheme, null and missing origins with 403 before the upgrade; accepts its own', async () => {
    const srv = await startServer();
    const { host, port } = new URL(srv.url); // 127.0.0.1:PORT
    const other = Number(port) === 65535 ? Number(port) - 1 : Number(port) + 1;
    const bad: (string | undefined)[] = [
      undefined, // missing
      'null', // sandboxed iframes, file: pages, some redirects
      '',
      'http://evil.example',
      `http://${host}.evil.example`, // look-alike: our host as a prefix
      `http://127.0.0.1.evil.example:${port}`,
      `http://evil-127.0.0.1:${port}`,
      `https://${host}`, // wrong scheme for a plain-HTTP server
      `ws://${host}`,
      `http://127.0.0.1:${other}`, // another port is another origin
      'http://127.0.0.1', // no port
      `http://localhost:${port}`, // same machine, different name: different origin
      `http://${host}/`, // not exact
      `HTTP://${host}`,
      `http://${host}, http://evil.example`,
    ];
    for (const origin of bad) {
      const headers: Record<string, string> = origin === undefined ? {} : { origin };
      const r = await upgradeStatus(wsOf(srv.url), { headers });
      expect(r.status, `origin ${JSON.stringify(origin)}`).toBe(403);
    }
    // Refused before the handshake: no socket was ever opened.
    expect(srv.server.gateway.refusedUpgrades.get(403)).toBe(bad.length);
    expect(srv.server.gateway.size).toBe(0);

    const alice = await registerUser(srv.url);
    const ws = await openSocket(srv.url, { origin: `http://${host}` });
    expect((await hello(ws, alice.token)).type).toBe('welcome');
    // The SDK (and so the CLI) sends the origin of the URL it connects to.
    const client = await connect(srv.url, alice.token);
    expect(client.state).toBe('open');
  });

  it('ALLOWED_ORIGINS: exactly the listed origins, and nothing else (not even the default)', async () => {
    const srv = await startServer({ allowedOrigins: 'https://chat.example.org,http://app.example.org:8080' });
    const status = async (origin: string) => (await upgradeStatus(wsOf(srv.url), { origin })).status;
    for (const ok of ['https://chat.example.org', 'http://app.example.org:8080']) {
      const r = await upgradeStatus(wsOf(srv.url), { origin: ok });
      expect(r.status, ok).toBe(101);
      r.ws!.terminate();
    }
    for (const no of [
      srv.url, // the list replaces the default
      'http://chat.example.org',
      'https://chat.example.org.evil.example',
      'https://evilchat.example.org',
      'http://app.example.org',
      'http://app.example.org:80800',
      'null',
    ]) {
      expect(await status(no), no).toBe(403);
    }
    expect(loadConfig([], { ALLOWED_ORIGINS: 'https://a.example, http://b.example:81' }).allowedOrigins).toBe(
      'https://a.example, http://b.example:81',
    );
    for (const invalid of ['https://a.example/', 'a.example', 'https://A.example', 'ftp://a.example', 'null']) {
      expect(() => loadConfig([], { ALLOWED_ORIGINS: invalid }), invalid).toThrow(/ALLOWED_ORIGINS/);
    }
  });

  it('behind a trusted TLS-terminating proxy the own origin is https://Host (X-Forwarded-Proto), only if trusted', async () => {
    const viaProxy = { host: 'chat.example.org', 'x-forwarded-proto': 'https' };
    const trusted = await startServer({ trustProxy: '127.0.0.1' });
    const ok = await upgradeStatus(wsOf(trusted.url), { headers: { ...viaProxy, origin: 'https://chat.example.org' } });
    expect(ok.status).toBe(101);
    ok.ws!.terminate();
    const plain = { headers: { ...viaProxy, origin: 'http://chat.example.org' } };
    expect((await upgradeStatus(wsOf(trusted.url), plain)).status).toBe(403);

    const untrusted = await startServer();
    const spoofed = { headers: { ...viaProxy, origin: 'https://chat.example.org' } };
    expect((await upgradeStatus(wsOf(untrusted.url), spoofed)).status).toBe(403);
  });
});

describe('cross-site WebSocket hijacking from a real browser (Chromium)', () => {
  it("a page on another origin cannot open a socket; the server's own page can", async () => {
    const srv = await startServer();
    // The attacker's page: plain HTML on another port, with no CSP of its own that could block the attempt.
    const evil = createServer((_req, res) => res.end('<!doctype html><title>evil</title>'));
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => evil.close(() => r())));
    const browser = await launchBrowser();
    onTestFinished(() => browser.close());
    const page = await browser.newPage();
    // The page's own WebSocket (a string, so the test's `ws` import is not compiled into it).
    const tryOpen = (url: string) =>
      page.evaluate(`new Promise((resolve) => {
        const ws = new WebSocket(${JSON.stringify(url)});
        ws.onopen = () => { ws.close(); resolve('open'); };
        ws.onclose = (e) => resolve('closed ' + e.code);
      })`);
    const evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
    await page.goto(evilUrl);
    expect(await tryOpen(wsOf(srv.url))).toBe('closed 1006');
    expect(srv.server.gateway.refusedUpgrades.get(403)).toBe(1); // it reached the server and the Origin check said no
    await page.goto(`${srv.url}/`);
    expect(await tryOpen(wsOf(srv.url))).toBe('open');
    expect(srv.server.gateway.refusedUpgrades.get(403)).toBe(1);
  });
});

describe('connections per IP', () => {
  it('refuses upgrades over MAX_CONNECTIONS_PER_IP with 429 and frees the slot when a socket closes', async () => {
    const srv = await startServer({ maxConnectionsPerIp: 3 });
    const sockets = [await openSocket(srv.url), await openSocket(srv.url), await openSocket(srv.url)];
    const over = await upgradeStatus(wsOf(srv.url), { origin: srv.url });
    expect(over.status).toBe(429);
    expect(over.retryAfter).toBe('5');
    expect(srv.server.gateway.refusedUpgrades.get(429)).toBe(1);
    expect(srv.server.gateway.size).toBe(3);
    sockets[0]!.close();
    await waitFor(() => srv.server.gateway.size === 2, 5000, 'socket closed on the server');
    await openSocket(srv.url);
    // Unauthenticated and authenticated sockets count alike; the per-user cap still applies after hello.
    expect((await upgradeStatus(wsOf(srv.url), { origin: srv.url })).status).toBe(429);
  });

  it('counts the client address from X-Forwarded-For only when the proxy is trusted', async () => {
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    const trusted = await startServer({ trustProxy: '127.0.0.1', maxConnectionsPerIp: 1 });
    await openSocket(trusted.url, from('198.51.100.1'));
    expect((await upgradeStatus(wsOf(trusted.url), { origin: trusted.url, ...from('198.51.100.1') })).status).toBe(429);
    await openSocket(trusted.url, from('198.51.100.2')); // another client behind the same proxy
    await openSocket(trusted.url, from('198.51.100.1, 198.51.100.3')); // what the proxy saw counts, not a claim

    const untrusted = await startServer({ maxConnectionsPerIp: 1 });
    await openSocket(untrusted.url, from('198.51.100.1'));
    expect((await upgradeStatus(wsOf(untrusted.url), { origin: untrusted.url, ...from('198.51.100.2') })).status).toBe(
      429,
    ); // the header is not believed: both are 127.0.0.1
  });
});

describe('client address behind proxies (TRUST_PROXY, as Fastify reads it)', () => {
  const req = (peer: string, xff?: string) =>
    ({ socket: { remoteAddress: peer }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as unknown as IncomingMessage;
  it.each([
    ['false', '::ffff:10.0.0.1', '1.1.1.1', '10.0.0.1'],
    ['true', '10.0.0.1', '1.1.1.1, 2.2.2.2', '1.1.1.1'],
    ['1', '10.0.0.1', '1.1.1.1, 2.2.2.2', '2.2.2.2'],
    ['2', '10.0.0.1', '1.1.1.1, 2.2.2.2', '1.1.1.1'],
    ['10.0.0.0/8', '::ffff:10.9.9.9', '1.1.1.1, 10.0.0.2', '1.1.1.1'],
    ['10.0.0.0/8', '192.168.0.1', '1.1.1.1', '192.168.0.1'],
    ['10.0.0.1,::1', '::1', '2001:db8::7', '2001:db8::7'],
    ['10.0.0.1', '10.0.0.1', undefined, '10.0.0.1'],
  ])('TRUST_PROXY=%s, peer %s, X-Forwarded-For %s → %s', (setting, peer, xff, expected) => {
    expect(clientAddress(req(peer, xff), compileProxyTrust(setting))).toBe(expected);
  });
});

describe('security headers', () => {
  it('the web client page: strict CSP, nosniff, no-referrer, no framing; no HSTS over plain HTTP', async () => {
    const webDir = mkdtempSync(join(tmpdir(), 'relaychat-web-'));
    onTestFinished(() => rmSync(webDir, { recursive: true, force: true }));
    mkdirSync(join(webDir, 'assets'));
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><script type="module" src="/assets/app.js"></script>');
    writeFileSync(join(webDir, 'assets', 'app.js'), 'console.log(1)');
    const srv = await startServer({}, { webDir });
    const notBuilt = await startServer({}, { webDir: join(webDir, 'assets') }); // no index.html: the "not built" page

    for (const url of [`${srv.url}/`, `${srv.url}/r/some-room`, `${notBuilt.url}/`]) {
      const res = await fetch(url, { headers: { accept: 'text/html' } });
      expect(res.status, url).toBe(200);
      const csp = cspDirectives(res.headers.get('content-security-policy'));
      expect(csp.get('script-src'), url).toEqual(["'self'"]);
      expect(csp.get('object-src'), url).toEqual(["'none'"]);
      expect(csp.get('base-uri'), url).toEqual(["'none'"]);
      expect(csp.get('frame-ancestors'), url).toEqual(["'none'"]);
      expect(csp.get('default-src'), url).toEqual(["'self'"]);
      for (const values of csp.values()) expect(values).not.toContain("'unsafe-eval'");
      // Exactly the directives docs/security.md lists: images and styles from this origin only (no data:, no
      // 'unsafe-inline'; the "not built" page allows its one inline style by hash).
      expect(csp.get('img-src'), url).toEqual(["'self'", 'blob:']);
      expect(csp.get('connect-src'), url).toEqual(["'self'"]);
      expect(csp.get('form-action'), url).toEqual(["'self'"]);
      const styles = csp.get('style-src') ?? [];
      expect(styles[0], url).toBe("'self'");
      expect(
        styles.slice(1).every((v) => /^'sha256-[A-Za-z0-9+/=]+'$/.test(v)),
        url,
      ).toBe(true);
      expect([...csp.keys()].sort(), url).toEqual(CSP_DIRECTIVES);
      expect(res.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), url).toBe('no-referrer');
      expect(res.headers.get('x-frame-options'), url).toBe('DENY');
      expect(res.headers.get('strict-transport-security'), url).toBeNull();
      await res.arrayBuffer();
    }
    const asset = await fetch(`${srv.url}/assets/app.js`);
    expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
    await asset.arrayBuffer();
  });

  it('API responses: nosniff everywhere, Cache-Control: no-store on authenticated and error answers', async () => {
    const srv = await startServer();
    const alice = await registerUser(srv.url);
    const me = await fetch(`${srv.url}/api/v1/me`, { headers: { authorization: `Bearer ${alice.token}` } });
    expect(me.status).toBe(200);
    expect(me.headers.get('cache-control')).toBe('no-store');
    expect(me.headers.get('x-content-type-options')).toBe('nosniff');
    expect(me.headers.get('content-type')).toMatch(/^application\/json/);
    expect(me.headers.get('strict-transport-security')).toBeNull();
    const denied = await fetch(`${srv.url}/api/v1/me`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('cache-control')).toBe('no-store');
    expect(denied.headers.get('x-content-type-options')).toBe('nosniff');
    const health = await fetch(`${srv.url}/healthz`);
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    await Promise.all([me.arrayBuffer(), denied.arrayBuffer(), health.arrayBuffer()]);
  });

  it('HSTS behind a proxy: only when a trusted proxy says X-Forwarded-Proto: https', async () => {
    const https = { 'x-forwarded-proto': 'https' };
    const trusted = await startServer({ trustProxy: '127.0.0.1' });
    const a = await fetch(`${trusted.url}/healthz`, { headers: https });
    expect(a.headers.get('strict-transport-security')).toBe('max-age=31536000');
    const untrusted = await startServer();
    const b = await fetch(`${untrusted.url}/healthz`, { headers: https });
    expect(b.headers.get('strict-transport-security')).toBeNull();
    await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
  });
});

describe('TLS', () => {
  /** A throwaway self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
  function selfSigned(): { cert: string; key: string; certPem: Buffer } {
    const dir = mkdtempSync(join(tmpdir(), 'relaychat-tls-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout', key, '-out', cert,
      ], // prettier-ignore
      { stdio: 'ignore', timeout: 20_000 },
    );
    return { cert, key, certPem: readFileSync(cert) };
  }

  /** An HTTPS request that trusts only our certificate (no rejectUnauthorized: false). */
  function get(
    url: string,
    ca: Buffer,
    init: { method?: string; body?: unknown; token?: string } = {},
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: unknown }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      const req = httpsRequest(url, { method: init.method ?? 'GET', ca, headers, timeout: 5000 }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : undefined }),
        );
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end(init.body === undefined ? undefined : JSON.stringify(init.body));
    });
  }

  it('serves HTTPS and WSS on one port from TLS_CERT_FILE/TLS_KEY_FILE, with HSTS', async () => {
    const tls = selfSigned();
    const srv = await startServer({ tlsCertFile: tls.cert, tlsKeyFile: tls.key });
    expect(srv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const health = await get(`${srv.url}/healthz`, tls.certPem);
    expect(health.status).toBe(200);
    expect(health.headers['strict-transport-security']).toBe('max-age=31536000');
    const reg = await get(`${srv.url}/api/v1/auth/register`, tls.certPem, {
      method: 'POST',
      body: { username: 'tlsuser', password: 'correct horse battery' },
    });
    expect(reg.status).toBe(201);
    expect(reg.headers['cache-control']).toBe('no-store');
    expect(reg.headers['strict-transport-security']).toBe('max-age=31536000');
    const token = (reg.json as { token: string }).token;

    // WSS: the server's own origin is now https://host:port; http:// is another origin.
    const ws = await openSocket(srv.url, { ca: tls.certPem });
    expect((await hello(ws, token)).type).toBe('welcome');
    const insecure = await upgradeStatus(wsOf(srv.url), { ca: tls.certPem, origin: srv.url.replace('https', 'http') });
    expect(insecure.status).toBe(403);
    // A client that does not trust the certificate does not get in.
    await expect(upgradeStatus(wsOf(srv.url), { origin: srv.url })).rejects.toThrow(/self-signed|certificate/i);
  });

  it('HSTS_MAX_AGE=0 sends none; the TLS settings are both-or-neither and must be readable', async () => {
    const tls = selfSigned();
    const srv = await startServer({ tlsCertFile: tls.cert, tlsKeyFile: tls.key, hstsMaxAge: 0 });
    const res = await get(`${srv.url}/healthz`, tls.certPem);
    expect(res.status).toBe(200);
    expect(res.headers['strict-transport-security']).toBeUndefined();

    expect(() => loadConfig([], { TLS_CERT_FILE: tls.cert })).toThrow(/set both or neither/);
    expect(() => loadConfig([], { TLS_KEY_FILE: tls.key })).toThrow(ConfigError);
    expect(() => loadConfig([], { TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: tls.key })).toThrow(
      /^Invalid setting TLS_CERT_FILE \(--tls-cert-file\)/,
    );
    const ok = loadConfig(['--tls-cert-file', tls.cert, '--tls-key-file', tls.key], {});
    expect([ok.tlsCertFile, ok.tlsKeyFile]).toEqual([tls.cert, tls.key]);
    const other = selfSigned();
    expect(() => loadConfig([], { TLS_CERT_FILE: tls.cert, TLS_KEY_FILE: other.key })).toThrow(
      /^Invalid settings TLS_CERT_FILE .* TLS_KEY_FILE .*: .*key values mismatch/,
    );
    expect(() => loadConfig([], { TLS_CERT_FILE: tls.key, TLS_KEY_FILE: tls.key })).toThrow(ConfigError);
  });
});

describe('tokens', () => {
  it('never appear in URLs or logs, even at trace level', async () => {
    let logText = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logText += chunk.toString();
        done();
      },
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'relaychat-logs-'));
    const config = testConfig(dataDir, { logLevel: 'trace' });
    const server = await createChatServer(config, { logger: pino({ level: 'trace' }, sink) });
    onTestFinished(async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const url = await server.listen();
    const alice = await registerUser(url);
    await alice.api.me();
    await alice.api.login(alice.username, alice.password);
    const client = await connect(url, alice.token);
    await client.send('lobby', 'hello');
    await fetch(`${url}/api/v1/me`, { headers: { authorization: 'Bearer not-a-real-token-but-secret' } });
    // A client that puts its token in the query string (the server ignores it there) must not get it logged.
    const queried = await fetch(`${url}/api/v1/me?token=${alice.token}&access_token=${alice.token}`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(queried.status).toBe(200); // routes without query parameters ignore them
    await fetch(`${url}/api/v1/rooms?q=${alice.token}`, { headers: { authorization: `Bearer ${alice.token}` } });
    expect((await upgradeStatus(`${wsOf(url)}?token=${alice.token}`, { origin: 'http://evil.example' })).status).toBe(
      403,
    );
    expect((await upgradeStatus(wsOf(url), { origin: 'http://evil.example' })).status).toBe(403);
    client.close();
    await waitFor(() => server.gateway.size === 0, 5000, 'socket closed');

    expect(logText).toContain('"url":"/api/v1/me"'); // request logging is on: the check below means something
    expect(logText).toContain('"url":"/api/v1/me?token=[redacted]&access_token=[redacted]"');
    expect(logText).toContain('websocket refused: origin not allowed');
    expect(logText).not.toContain(alice.token);
    expect(logText).not.toContain('not-a-real-token-but-secret');
    expect(logText).not.toContain(alice.password);
    for (const line of logText.split('\n').filter(Boolean)) {
      const entry = JSON.parse(line) as { req?: { url?: string } };
      if (!entry.req?.url) continue;
      expect(entry.req.url).not.toMatch(/authorization/i);
      // Query parameter names stay, every value is redacted.
      for (const pair of entry.req.url.split('?')[1]?.split('&') ?? []) expect(pair).toMatch(/^[^=]*(=\[redacted\])?$/);
    }
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChatApi } from '../../src/client/api.js';
import { loadConfig } from '../../src/server/config.js';
import {
  BALANCE_STRATEGIES,
  BALANCERS,
  strategyLines,
  type BalanceStrategy,
  type BalancerKind,
} from '../../scripts/lib/balance.js';
import { findHaproxy, HAPROXY_TEMPLATE, renderHaproxyConfig } from '../../scripts/lib/haproxy.js';
import { findNginx, nginxMainConfig, NGINX_TEMPLATE, renderNginxConfig } from '../../scripts/lib/nginx.js';
import { readBlock } from '../../scripts/lib/template.js';
import { startServer } from '../helpers/harness.js';

describe('deployment', () => {
  it('TRUST_PROXY: per-IP limits see the client address from X-Forwarded-For only when the proxy is trusted', async () => {
    const register = (url: string, name: string, forwardedFor: string) =>
      fetch(`${url}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
        body: JSON.stringify({ username: name, password: 'correct horse battery' }),
      }).then((r) => r.status);
    const trusted = await startServer({ trustProxy: '127.0.0.1', registrationsPerHour: 2 });
    expect(await register(trusted.url, 'tp1', '198.51.100.1')).toBe(201);
    expect(await register(trusted.url, 'tp2', '198.51.100.1')).toBe(201);
    expect(await register(trusted.url, 'tp3', '198.51.100.1')).toBe(429);
    expect(await register(trusted.url, 'tp4', '198.51.100.2')).toBe(201); // another client behind the same proxy
    const untrusted = await startServer({ registrationsPerHour: 2 });
    expect(await register(untrusted.url, 'tu1', '198.51.100.1')).toBe(201);
    expect(await register(untrusted.url, 'tu2', '198.51.100.2')).toBe(201);
    expect(await register(untrusted.url, 'tu3', '198.51.100.3')).toBe(429); // the header is not believed
    expect(loadConfig([], { TRUST_PROXY: '2' }).trustProxy).toBe('2');
    expect(() => loadConfig([], { TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig([], { PRESENCE_TTL_MS: '1000', PRESENCE_HEARTBEAT_MS: '1000' })).toThrow(
      /PRESENCE_TTL_MS .* longer than PRESENCE_HEARTBEAT_MS/,
    );
    expect(() => loadConfig([], { DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
  });

  it('draining: /readyz answers 503 at once while the API and sockets keep working; shutdown waits only when watched', async () => {
    const srv = await startServer({ drainDelayMs: 300 });
    const ready = await fetch(`${srv.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ok: true, node: srv.server.nodeId });
    srv.server.drain();
    const draining = await fetch(`${srv.url}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ error: { code: 'unavailable', retryable: true } });
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    const user = await new ChatApi(srv.url).register('drainee', 'correct horse battery');
    expect(user.token).toBeTruthy();
    const started = Date.now();
    await srv.server.shutdown(); // /readyz was checked just now: waits DRAIN_DELAY_MS, then closes
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    // No load balancer ever checked: no reason to wait. The delay is the longest allowed (10 min), far past the
    // test's timeout, so returning at all shows it was skipped, whatever the machine's speed.
    const unwatched = await startServer({ drainDelayMs: 600_000 });
    await unwatched.server.shutdown();
  });

  it('/readyz: a bus that does not answer is reported degraded with 200; a store that does not answer is 503', async () => {
    const srv = await startServer();
    const { bus, store } = srv.server.ports;
    expect(await (await fetch(`${srv.url}/readyz`)).json()).toMatchObject({ ok: true, degraded: [] });
    const busPing = bus.ping.bind(bus);
    bus.ping = () => Promise.reject(new Error('redis bus subscriber connection is reconnecting'));
    const degraded = await fetch(`${srv.url}/readyz`);
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toMatchObject({ ok: true, degraded: ['redis'] });
    // A bus that hangs counts as degraded too, well within a load balancer's check timeout.
    bus.ping = () => new Promise<void>(() => {});
    const t0 = Date.now();
    const hung = await fetch(`${srv.url}/readyz`);
    expect([hung.status, ((await hung.json()) as { degraded: string[] }).degraded]).toEqual([200, ['redis']]);
    expect(Date.now() - t0).toBeLessThan(1000);
    bus.ping = busPing;
    const storePing = store.ping.bind(store);
    store.ping = () => Promise.reject(new Error('connect ECONNREFUSED'));
    const down = await fetch(`${srv.url}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ error: { code: 'unavailable', retryable: true } });
    store.ping = storePing;
    expect((await fetch(`${srv.url}/readyz`)).status).toBe(200);
  });

  it('deploy/haproxy.cfg renders for loopback nodes and HAProxy accepts it', () => {
    const cfg = renderHaproxyConfig(readFileSync(HAPROXY_TEMPLATE, 'utf8'), {
      port: 18080,
      statsPort: 18404,
      nodes: [
        { name: 'node1', port: 13001 },
        { name: 'node2', port: 13002 },
      ],
    });
    expect(cfg).toContain('bind 127.0.0.1:18080');
    expect(cfg).toContain('server node2 127.0.0.1:13002');
    expect(cfg).not.toContain('10.0.0.11');
    expect(cfg).toMatch(/balance leastconn/);
    expect(cfg).toMatch(/option httpchk GET \/readyz/);
    const haproxy = findHaproxy(); // throws, naming the package, when HAProxy is not installed
    const dir = mkdtempSync(join(tmpdir(), 'relaychat-haproxy-'));
    try {
      writeFileSync(join(dir, 'haproxy.cfg'), cfg);
      execFileSync(haproxy, ['-c', '-q', '-f', join(dir, 'haproxy.cfg')], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the shipped balance blocks are the leastconn strategy files, and every strategy file renders and passes the load balancer’s own check', () => {
    const templates = { haproxy: HAPROXY_TEMPLATE, nginx: NGINX_TEMPLATE } as const;
    for (const kind of BALANCERS) {
      const template = readFileSync(templates[kind], 'utf8');
      // As deployed without edits: leastconn, line for line the file the tests insert.
      expect(readBlock(template, 'balance'), kind).toEqual(strategyLines(kind, 'leastconn'));
    }
    const expected: Record<BalancerKind, Record<BalanceStrategy, RegExp>> = {
      haproxy: {
        leastconn: /^\s*balance leastconn$/m,
        roundrobin: /^\s*balance roundrobin$/m,
        random: /^\s*balance random\(2\)$/m,
        weighted: /^\s*balance leastconn$/m,
        hash: /^\s*balance url_param u\n\s*hash-type consistent\n\s*hash-balance-factor 150$/m,
      },
      nginx: {
        leastconn: /^\s*least_conn;$/m,
        roundrobin: /# balance:begin\n(\s*#.*\n)*\s*# balance:end/, // nothing but comments: nginx's default
        random: /^\s*random two least_conn;$/m,
        weighted: /^\s*least_conn;$/m,
        hash: /^\s*hash \$arg_u consistent;$/m,
      },
    };
    const dir = mkdtempSync(join(tmpdir(), 'relaychat-balance-'));
    mkdirSync(join(dir, 'nginx-tmp'));
    try {
      for (const kind of BALANCERS) {
        for (const balance of BALANCE_STRATEGIES) {
          const nodes = [
            { name: 'node1', port: 13001, ...(balance === 'weighted' ? { weight: 1 } : {}) },
            { name: 'node2', port: 13002, ...(balance === 'weighted' ? { weight: 3 } : {}) },
          ];
          const what = `${kind} ${balance}`;
          const cfg =
            kind === 'haproxy'
              ? renderHaproxyConfig(readFileSync(HAPROXY_TEMPLATE, 'utf8'), {
                  port: 18080,
                  statsPort: 18404,
                  nodes,
                  balance,
                })
              : renderNginxConfig(readFileSync(NGINX_TEMPLATE, 'utf8'), { port: 18080, nodes, balance });
          expect(readBlock(cfg, 'balance'), what).toEqual(strategyLines(kind, balance));
          expect(cfg, what).toMatch(expected[kind][balance]);
          expect(cfg, what).not.toContain('10.0.0.1');
          if (kind === 'haproxy') {
            expect(cfg, what).toContain(`server node2 127.0.0.1:13002${balance === 'weighted' ? ' weight 3' : ''}\n`);
          } else {
            // The template's per-server parameters are kept: only the address (and weight) change.
            expect(cfg, what).toContain(
              `server 127.0.0.1:13002${balance === 'weighted' ? ' weight=3' : ''} max_fails=2 fail_timeout=5s;`,
            );
            expect(cfg, what).toContain('listen 127.0.0.1:18080;');
            expect(cfg, what).not.toMatch(/ssl_certificate|listen 80|return 301/);
          }
          const file = join(dir, `${kind}-${balance}.conf`);
          writeFileSync(file, cfg);
          if (kind === 'haproxy') {
            execFileSync(findHaproxy(), ['-c', '-q', '-f', file], { stdio: 'pipe' });
          } else {
            const main = join(dir, `main-${balance}.conf`);
            writeFileSync(main, nginxMainConfig(dir, file));
            const log = join(dir, 'nginx-error.log');
            const r = spawnSync(findNginx(), ['-t', '-q', '-c', main, '-e', log], { encoding: 'utf8' });
            expect(r.status, `${what}: ${r.stderr}`).toBe(0);
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the migrate command migrates the configured store and exits 0 (2 on a bad setting)', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'relaychat-migrate-'));
    try {
      const run = (args: string[]) =>
        spawnSync(process.execPath, ['--import', 'tsx', 'src/server/migrate.ts', ...args], {
          encoding: 'utf8',
          timeout: 30_000,
          env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' },
        });
      const ok = run([]);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/SQLite schema up to date/);
      const bad = run(['--database-url', 'nope']);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/DATABASE_URL/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('the embedded default never loads the PostgreSQL or Redis drivers (imported on demand only)', () => {
    for (const file of ['src/server/app.ts', 'src/server/cluster.ts', 'src/server/main.ts']) {
      const src = readFileSync(file, 'utf8');
      expect(src, file).not.toMatch(/^import(?! type).*from '(pg|ioredis|\.\.\/storage\/(postgres|redis)\/[^']*)';$/m);
    }
  });
});

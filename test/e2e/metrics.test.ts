import { describe, expect, it } from 'vitest';
import { connect, registerUser, startServer, waitFor } from '../helpers/harness.js';

const TOKEN = 'metrics-token-for-tests-0123456789';

/** One sample's value from Prometheus text, e.g. value(text, 'relaychat_websockets'). */
function value(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  if (!line) throw new Error(`no sample ${sample} in:\n${text.slice(0, 2000)}`);
  return Number(line.slice(sample.length + 1));
}

describe('GET /metrics', () => {
  it('is not served unless METRICS_TOKEN is set', async () => {
    const srv = await startServer();
    const res = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('needs the bearer token, then reports connections, messages, deliveries and event-loop delay', async () => {
    const srv = await startServer({ metricsToken: TOKEN });
    for (const authorization of [undefined, 'Bearer wrong-token-wrong-token', TOKEN, `Bearer ${TOKEN}x`]) {
      const res = await fetch(`${srv.url}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(res.status, String(authorization)).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
    const scrape = async () => {
      const res = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return res.text();
    };

    const before = await scrape();
    expect(value(before, 'relaychat_websockets')).toBe(0);
    expect(value(before, 'relaychat_online_users')).toBe(0);
    expect(value(before, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(value(before, 'relaychat_event_loop_utilization')).toBeLessThanOrEqual(1);

    const [alice, bob] = await Promise.all([registerUser(srv.url), registerUser(srv.url)]);
    const a = await connect(srv.url, alice.token);
    await connect(srv.url, bob.token);
    for (let i = 0; i < 5; i++) await a.send('lobby', `hello ${i}`);
    await a.send('lobby', 'hello 0', 'dup-check');
    await a.send('lobby', 'hello 0', 'dup-check'); // a retry: stored once
    let after = '';
    await waitFor(async () => {
      after = await scrape();
      // 6 messages, each delivered to both connections.
      return value(after, 'relaychat_deliveries_total') - value(before, 'relaychat_deliveries_total') >= 12;
    });
    expect(value(after, 'relaychat_websockets')).toBe(2);
    expect(value(after, 'relaychat_sessions_connected')).toBe(2);
    expect(value(after, 'relaychat_online_users')).toBe(2);
    // One latency sample per message delivered live (not one per recipient).
    expect(value(after, 'relaychat_delivery_latency_seconds_count')).toBe(6);
    expect(value(after, 'relaychat_messages_stored_total') - value(before, 'relaychat_messages_stored_total')).toBe(6);
    expect(value(after, 'relaychat_write_flushes_total')).toBeGreaterThan(0);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/harness.js';

const DASHBOARD = new URL('../../deploy/grafana-dashboard.json', import.meta.url);
const TOKEN = 'metrics-token-for-tests-0123456789';
const DS_UID = '${DS_PROMETHEUS}';

interface Target {
  expr: string;
  legendFormat?: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; datasource?: { uid: string }; query: { query: string } }[] };
}

/** Words of PromQL that look like metric names but are not: grouping and set keywords. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or']);

/**
 * The metric names a PromQL expression selects: identifiers left after dropping strings, label matchers,
 * range selectors and grouping label lists, that are not function calls, keywords or parts of numbers.
 */
function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const at = m.index;
    if (at > 0 && /[0-9.]/.test(s[at - 1]!)) continue; // the exponent of 1e3
    if (
      s
        .slice(at + m[0].length)
        .trimStart()
        .startsWith('(')
    )
      continue; // a function
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

/** Every sample name the server's /metrics can produce, from its `# TYPE` lines (histograms expand). */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name! + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name! + suffix);
    else names.add(name!);
  }
  return names;
}

function balanced(expr: string): boolean {
  const open: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (const c of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
    if ('([{'.includes(c)) open.push(c);
    else if (c in pairs && open.pop() !== pairs[c]) return false;
  }
  return open.length === 0;
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

describe('metricNames (the PromQL reader of this test)', () => {
  it('finds the selected metrics and nothing else', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (instance, le) (rate(relaychat_delivery_latency_seconds_bucket{job=~"$job", le!="1e3"}[$__rate_interval])))',
      ),
    ).toEqual(['relaychat_delivery_latency_seconds_bucket']);
    expect(metricNames('rate(a_total[5m]) / on(instance) group_left rate(b_total[5m]) > bool 1e3')).toEqual([
      'a_total',
      'b_total',
    ]);
    expect(metricNames('max(clamp_min(nodejs_eventloop_lag_p99_seconds - 0.01, 0))')).toEqual([
      'nodejs_eventloop_lag_p99_seconds',
    ]);
  });
});

describe('deploy/grafana-dashboard.json', () => {
  it('is an importable Grafana dashboard whose every query goes to the ${DS_PROMETHEUS} input', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    for (const p of queryPanels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: DS_UID });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource?.uid, p.title).toBe(DS_UID);
    }
    for (const v of dashboard.templating.list) expect(v.datasource?.uid, v.name).toBe(DS_UID);
    // No datasource named any other way (a uid from someone's own Grafana would break the import).
    const uids = [...readFileSync(DASHBOARD, 'utf8').matchAll(/"uid": "([^"]*)"/g)].map((m) => m[1]);
    expect(new Set(uids)).toEqual(new Set([DS_UID, '-- Grafana --', dashboard.uid]));
  });

  it('lays out its panels on the 24-column grid without overlaps, ids unique', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });

  it('shows the dashboard figures across nodes: per-node legends, rates over $__rate_interval', () => {
    const all = exprs.map((e) => e.expr).join('\n');
    expect(all).toContain('max(relaychat_online_users{');
    expect(all).toMatch(/rate\(relaychat_messages_stored_total\{[^}]*\}\[\$__rate_interval\]\)/);
    expect(all).toMatch(
      /histogram_quantile\(0\.99, sum by \(instance, le\) \(rate\(relaychat_delivery_latency_seconds_bucket/,
    );
    expect(all).toContain('nodejs_eventloop_lag_p99_seconds');
    expect(all).toContain('relaychat_event_loop_utilization');
    for (const { panel, expr } of exprs) {
      expect(balanced(expr), `${panel}: ${expr}`).toBe(true);
      for (const range of expr.matchAll(/\[([^\]]*)\]/g)) expect(range[1], panel).toBe('$__rate_interval');
      expect(expr, panel).toContain('instance=~"$instance"');
    }
    for (const p of queryPanels.filter((x) => x.type === 'timeseries')) {
      expect(
        p.targets!.some((t) => t.legendFormat?.includes('{{instance}}')),
        `${p.title} has a per-node legend`,
      ).toBe(true);
    }
  });

  it('uses only metric names a running server exports', async () => {
    const srv = await startServer({ metricsToken: TOKEN });
    const res = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const exported = exportedNames(await res.text());
    expect(exported.has('relaychat_delivery_latency_seconds_bucket')).toBe(true);
    const used = new Map<string, string>();
    for (const { panel, expr } of exprs) {
      const names = metricNames(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const n of names) used.set(n, panel);
    }
    for (const v of dashboard.templating.list) {
      const m = /^label_values\((\w+)/.exec(v.query.query);
      expect(m, v.name).not.toBeNull();
      used.set(m![1]!, `variable ${v.name}`);
    }
    const unknown = [...used].filter(([n]) => !exported.has(n)).map(([n, where]) => `${n} (${where})`);
    expect(unknown).toEqual([]);
    // And the reader would notice one that is not exported.
    expect(metricNames('rate(relaychat_messages_sent_total[5m])').filter((n) => !exported.has(n))).toEqual([
      'relaychat_messages_sent_total',
    ]);
  });
});

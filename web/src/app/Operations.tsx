/**
 * The operations dashboard of the admin view: the answering node's live figures as tiles with a sparkline each,
 * and every node of the deployment in a table. Refreshed every few seconds while shown; the history behind the
 * sparklines lives only here, for as long as the tab is open.
 */
import { useEffect, useState } from 'preact/hooks';
import type { AdminStats, NodeSummary } from '../../../src/protocol/model.js';
import { getLocale } from '../i18n/index.js';
import { tm, type ModKey } from '../i18n/mod.js';
import { errorText } from '../state/errors.js';
import { poll, pushHistory, sparklineRuns } from '../state/poll.js';
import { useChat } from './context.js';
import { ErrorLine } from './kit.js';

/** How often the figures are fetched while the tab is shown. */
export const REFRESH_MS = 3000;
/** Points kept per sparkline: three minutes at REFRESH_MS. */
const HISTORY = 60;

/** Latency p99 (ms) and event-loop delay p99 (ms) above which a tile turns to a warning (docs/operations.md). */
const LATENCY_WARN_MS = 250;
const DELAY_WARN_MS = 100;

interface Point {
  online: number | null;
  messages: number;
  latency: number | null;
  delay: number;
  utilization: number;
}

const pointOf = (s: AdminStats): Point => ({
  online: s.onlineUsers,
  messages: s.messages.perSecond.last10s,
  latency: s.deliveryLatencyMs.last10s.p99,
  delay: s.eventLoop.delayP99Ms.last10s,
  utilization: s.eventLoop.utilization.last10s,
});

export function Operations() {
  const chat = useChat();
  const [stats, setStats] = useState<AdminStats | null>(null);
  const [history, setHistory] = useState<Point[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(
    () =>
      poll(async () => {
        try {
          const s = await chat.api.adminStats();
          setStats(s);
          setHistory((h) => pushHistory(h, pointOf(s), HISTORY));
          setError(null);
        } catch (e) {
          setError(errorText(e));
        }
      }, REFRESH_MS),
    [],
  );
  if (!stats) return error ? <ErrorLine error={error} /> : <p class="empty-hint">{tm('ops.loading')}</p>;

  const lat = stats.deliveryLatencyMs.last10s;
  const lat60 = stats.deliveryLatencyMs.last60s;
  const loop = stats.eventLoop;
  const series = (pick: (p: Point) => number | null) => history.map(pick);
  return (
    <div class="ops">
      <p class="ops-head">
        <span>
          {tm('ops.node', { id: stats.node.id })} · {tm('ops.uptime', { time: uptimeText(stats.node.uptimeSec) })}
        </span>
        <span class="muted">{tm('ops.refreshed', { time: clock(stats.sampledAt) })}</span>
      </p>
      <ErrorLine error={error} />
      <div class="ops-tiles">
        <Tile
          id="online"
          label={tm('ops.online')}
          value={stats.onlineUsers === null ? '—' : num(stats.onlineUsers, 0)}
          sub={tm('ops.onlineSub', { count: stats.connections })}
          values={series((p) => p.online)}
        />
        <Tile
          id="messages"
          label={tm('ops.messages')}
          value={num(stats.messages.perSecond.last10s, 1)}
          unit={tm('ops.perSecond')}
          sub={tm('ops.messagesSub', {
            rate: num(stats.messages.perSecond.last60s, 1),
            stored: num(stats.messages.stored, 0),
          })}
          values={series((p) => p.messages)}
        />
        <Tile
          id="latency"
          label={tm('ops.latency')}
          value={lat.p99 === null ? '—' : num(lat.p99, lat.p99 < 10 ? 1 : 0)}
          unit={lat.p99 === null ? undefined : tm('ops.msUnit')}
          sub={
            lat.p50 === null
              ? tm('ops.latencyNone')
              : tm('ops.latencySub', {
                  p50: ms(lat.p50),
                  count: lat.samples,
                  p99: lat60.p99 === null ? '—' : ms(lat60.p99),
                })
          }
          warn={lat.p99 !== null && lat.p99 > LATENCY_WARN_MS}
          values={series((p) => p.latency)}
          floor={5}
        />
        <Tile
          id="delay"
          label={tm('ops.delay')}
          value={num(loop.delayP99Ms.last10s, loop.delayP99Ms.last10s < 10 ? 1 : 0)}
          unit={tm('ops.msUnit')}
          sub={tm('ops.delaySub', { max: ms(loop.delayP99Ms.last60s) })}
          warn={loop.delayP99Ms.last10s > DELAY_WARN_MS}
          values={series((p) => p.delay)}
          floor={5}
        />
        <Tile
          id="utilization"
          label={tm('ops.utilization')}
          value={num(loop.utilization.last10s * 100, 0)}
          unit="%"
          sub={tm('ops.utilizationSub', {
            avg: num(loop.utilization.last60s * 100, 0),
            busy: num(loop.busyAbove * 100, 0),
          })}
          warn={loop.utilization.last10s > loop.busyAbove}
          values={series((p) => p.utilization * 100)}
          floor={10}
        />
      </div>
      <Nodes nodes={stats.nodes} self={stats.node.id} />
      <p class="ops-note muted">{tm(stats.node.clustered ? 'ops.scopeCluster' : 'ops.scopeEmbedded')}</p>
    </div>
  );
}

function Tile({
  id,
  label,
  value,
  unit,
  sub,
  values,
  warn = false,
  floor = 1,
}: {
  id: string;
  label: string;
  value: string;
  unit?: string | undefined;
  sub: string;
  values: (number | null)[];
  warn?: boolean;
  floor?: number;
}) {
  return (
    <section class={`ops-tile${warn ? ' warn' : ''}`} data-tile={id} aria-label={label}>
      <h3>{label}</h3>
      <p class="ops-value">
        <span class="ops-number">{value}</span>
        {unit && <span class="ops-unit">{unit}</span>}
      </p>
      <Sparkline values={values} floor={floor} />
      <p class="ops-sub">{sub}</p>
    </section>
  );
}

const SPARK_W = 160;
const SPARK_H = 32;

function Sparkline({ values, floor }: { values: (number | null)[]; floor: number }) {
  const runs = sparklineRuns(values, SPARK_W, SPARK_H, floor);
  return (
    <svg
      class="ops-spark"
      viewBox={`-2 -2 ${SPARK_W + 4} ${SPARK_H + 4}`}
      preserveAspectRatio="none"
      aria-hidden="true"
      data-points={values.length}
    >
      {runs.map((points) =>
        points.includes(' ') ? (
          <polyline key={points} points={points} vector-effect="non-scaling-stroke" />
        ) : (
          <circle key={points} cx={points.split(',')[0]} cy={points.split(',')[1]} r="1.5" />
        ),
      )}
    </svg>
  );
}

function Nodes({ nodes, self }: { nodes: NodeSummary[] | null; self: string }) {
  if (nodes === null) return <p class="ops-note">{tm('ops.nodesUnavailable')}</p>;
  const head: ModKey[] = [
    'ops.col.node',
    'ops.col.connections',
    'ops.col.messages',
    'ops.col.latency',
    'ops.col.delay',
  ];
  return (
    <div class="ops-nodes">
      <h3>{tm('ops.nodes', { count: nodes.length })}</h3>
      <div class="ops-table-wrap">
        <table>
          <thead>
            <tr>
              {head.map((k) => (
                <th key={k} scope="col">
                  {tm(k)}
                </th>
              ))}
              <th scope="col">{tm('ops.col.utilization')}</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <tr key={n.id} data-node={n.id} class={n.id === self ? 'self' : undefined}>
                <th scope="row">
                  {n.id}
                  {n.id === self && <span class="badge">{tm('ops.thisNode')}</span>}
                </th>
                <td>{num(n.connections, 0)}</td>
                <td>{num(n.messagesPerSecond, 1)}</td>
                <td>{n.deliveryLatencyP99Ms === null ? '—' : ms(n.deliveryLatencyP99Ms)}</td>
                <td>{ms(n.eventLoopDelayP99Ms)}</td>
                <td>{`${num(n.eventLoopUtilization * 100, 0)} %`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

const numberFormats = new Map<string, Intl.NumberFormat>();
function num(n: number, digits: number): string {
  const key = `${getLocale()}|${digits}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(getLocale(), { maximumFractionDigits: digits, minimumFractionDigits: digits });
    numberFormats.set(key, f);
  }
  return f.format(n);
}

/** A duration in ms with its unit, one decimal below 10. */
function ms(n: number): string {
  return tm('ops.msValue', { n: num(n, n < 10 ? 1 : 0) });
}

function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString(getLocale(), { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "3 d 4 h", "4 h 5 min", "5 min", "42 s". */
function uptimeText(sec: number): string {
  const d = Math.floor(sec / 86_400);
  const h = Math.floor((sec % 86_400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  if (d > 0) return tm('ops.uptimeDays', { d, h });
  if (h > 0) return tm('ops.uptimeHours', { h, m });
  if (m > 0) return tm('ops.uptimeMinutes', { m });
  return tm('ops.uptimeSeconds', { s: sec });
}

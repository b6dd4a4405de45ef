/**
 * Load-balancing strategies, as files: deploy/balance/<balancer>/<strategy>.{cfg,conf} hold the lines that go
 * between `# balance:begin` and `# balance:end` in deploy/haproxy.cfg or deploy/nginx.conf. The launchers
 * (haproxy.ts, nginx.ts) insert them verbatim; docs/operations.md ("Choosing a balancing strategy") says when each
 * fits.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { httpStatus, isRunning, LOOPBACK, sleep } from './proc.js';
import { REPO } from './relaychat.js';
import { snippetLines } from './template.js';

export const BALANCE_STRATEGIES = ['leastconn', 'roundrobin', 'random', 'weighted', 'hash'] as const;
export type BalanceStrategy = (typeof BALANCE_STRATEGIES)[number];

export const BALANCERS = ['haproxy', 'nginx'] as const;
export type BalancerKind = (typeof BALANCERS)[number];

export const isBalanceStrategy = (s: string): s is BalanceStrategy =>
  (BALANCE_STRATEGIES as readonly string[]).includes(s);
export const isBalancerKind = (s: string): s is BalancerKind => (BALANCERS as readonly string[]).includes(s);

/** deploy/balance/haproxy/<strategy>.cfg or deploy/balance/nginx/<strategy>.conf */
export function strategyFile(kind: BalancerKind, strategy: BalanceStrategy): string {
  return path.join(REPO, 'deploy/balance', kind, `${strategy}.${kind === 'haproxy' ? 'cfg' : 'conf'}`);
}

/** The lines of a strategy file, for the `balance` block. */
export function strategyLines(kind: BalancerKind, strategy: BalanceStrategy): string[] {
  return snippetLines(fs.readFileSync(strategyFile(kind, strategy), 'utf8'));
}

/** A node behind the load balancer. `weight` (weighted strategy) is rendered on its server line. */
export interface BalancerNode {
  name: string;
  port: number;
  weight?: number;
}

/** What both launchers return. */
export interface LoadBalancer {
  readonly kind: BalancerKind;
  readonly balance: BalanceStrategy;
  /** http://127.0.0.1:<port>: the cluster's public URL. */
  readonly url: string;
  readonly port: number;
  readonly configFile: string;
  readonly logFile: string;
  readonly running: boolean;
  /** The load balancer's (master) process while it runs. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Waits until a request through a freshly started load balancer reaches a node (`/healthz` answers 200); throws
 * with the log's tail if the process exits first or nothing answers within 20 s.
 */
export async function waitUntilServing(name: string, child: ChildProcess, port: number, tail: () => string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!isRunning(child)) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${tail()}`);
    if ((await httpStatus(`http://${LOOPBACK}:${port}/healthz`)) === 200) return;
    if (Date.now() > deadline) throw new Error(`${name} did not reach a node within 20 s:\n${tail()}`);
    await sleep(50);
  }
}

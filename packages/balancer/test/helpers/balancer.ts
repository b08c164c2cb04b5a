// Builds the real balancer for a test: configuration from an env map (as main.ts does, so
// the variables themselves are exercised), listening on 127.0.0.1 port 0, logs captured
// as JSON lines, closed after the test.

import type { TestContext } from 'node:test';
import { createLogger } from '@visit-counter/shared';
import { captureLogs, type LogCapture } from '@visit-counter/shared/test-helpers';
import { createBalancer, type Balancer, type BalancerDeps } from '../../src/balancer.js';
import { loadBalancerConfig, type BalancerConfig } from '../../src/config.js';
import { createClient, type Client } from './http-client.js';
import { waitFor } from './wait-for.js';

export interface StartedBalancer {
  balancer: Balancer;
  config: BalancerConfig;
  port: number;
  logs: LogCapture;
  client: Client;
  /** GET /_lb/status, parsed. */
  status(): Promise<Status>;
}

export interface BackendStatus {
  id: string;
  address: string;
  port: number;
  state: 'up' | 'down' | 'draining' | 'unknown';
  health: string;
  since: string;
  requests: number;
  failures: number;
  inFlight: number;
  lastCheck: { ok: boolean; at: string; latencyMs: number; status?: number; error?: string } | null;
}

export interface Status {
  uptimeSeconds: number;
  startedAt: string;
  acceptPerTurn: number;
  totals: Record<string, unknown>;
  backends: BackendStatus[];
  config: Record<string, unknown>;
}

/** Settings that make a test fast: checks every 50 ms; no background DNS look-ups. */
export const FAST_ENV = {
  PORT: '0',
  HOST: '127.0.0.1',
  HEALTH_INTERVAL_MS: '50',
  HEALTH_TIMEOUT_MS: '1000',
  DNS_INTERVAL_MS: '600000',
  SHUTDOWN_GRACE_MS: '5000',
  LOG_LEVEL: 'info',
  // The suite runs twice (see package.json): with the fast path, and with every request on
  // the full path, so both answer each test the same way.
  FAST_PATH: process.env['FAST_PATH'] ?? 'true',
};

export async function startBalancer(
  t: TestContext,
  env: Record<string, string>,
  deps: Omit<BalancerDeps, 'logger'> = {},
): Promise<StartedBalancer> {
  const config = loadBalancerConfig({ ...FAST_ENV, ...env });
  const logs = captureLogs();
  const logger = createLogger({ name: 'balancer', level: config.logLevel, destination: logs.stream });
  const balancer = createBalancer(config, { logger, ...deps });
  t.after(() => balancer.close());
  const port = await balancer.listen();
  const client = createClient(t, port);
  return {
    balancer,
    config,
    port,
    logs,
    client,
    async status() {
      const reply = await client.get('/_lb/status');
      if (reply.status !== 200) throw new Error(`/_lb/status answered ${reply.status}: ${reply.body}`);
      return JSON.parse(reply.body) as Status;
    },
  };
}

/** Waits until /_lb/status shows exactly these backend ids in state `up`. */
export async function waitForUp(started: StartedBalancer, ids: readonly string[], timeoutMs = 5_000): Promise<void> {
  await waitForStates(started, Object.fromEntries(ids.map((id) => [id, 'up'])), timeoutMs);
}

/** Waits until /_lb/status shows each listed backend in the given state. */
export async function waitForStates(started: StartedBalancer, wanted: Record<string, BackendStatus['state']>, timeoutMs = 5_000): Promise<Status> {
  return waitFor(
    async () => {
      const status = await started.status();
      const ok = Object.entries(wanted).every(([id, state]) => status.backends.find((b) => b.id === id)?.state === state);
      return ok ? status : undefined;
    },
    { timeoutMs, what: `backends ${JSON.stringify(wanted)}` },
  );
}

/** Which backend (x-backend) answered each of `count` sequential GETs. */
export async function servedBy(client: Client, count: number, path = '/'): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const reply = await client.get(path);
    if (reply.status !== 200) throw new Error(`GET ${path} answered ${reply.status}: ${reply.body}`);
    names.push(String(reply.headers['x-backend']));
  }
  return names;
}

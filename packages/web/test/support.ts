// Shared pieces of the web test suites (not a test file itself): a real Redis, a real web
// service on port 0 built through config parsing, a plain node:http client and polling.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createLogger, type Env } from '@visit-counter/shared';
import {
  captureLogs,
  httpRequest,
  spawnMain as spawnPackageMain,
  startRedis,
  type Cleanup,
  type LogCapture,
  type MainProcess,
  type Reply,
  type RequestOptions,
  type RedisServer,
} from '@visit-counter/shared/test-helpers';
import { loadWebConfig } from '../src/config.js';
import { createWebService, type WebService } from '../src/service.js';

export type { Cleanup, MainProcess };

export const HOSTNAME = 'test-host';
// Tests whose subject is not the Redis deadline get a generous one, so that a loaded CI machine
// cannot turn a slow reply into a 503; the Redis-down tests set their own short one.
export const TEST_REDIS_TIMEOUT_MS = 2000;

export async function startTestRedis(t: Cleanup): Promise<RedisServer> {
  const redis = await startRedis();
  t.after(() => redis.stop());
  return redis;
}

export interface RunningWeb {
  service: WebService;
  port: number;
  logs: LogCapture;
}

/** A web replica on 127.0.0.1, port 0, with its configuration parsed from `env`; by default
 * it resolves once the replica reports ready (Redis connected). */
export async function startWeb(t: Cleanup, redis: RedisServer, env: Env = {}, { waitReady = true } = {}): Promise<RunningWeb> {
  const config = loadWebConfig({ PORT: '0', HOST: '127.0.0.1', REDIS_URL: redis.url, REDIS_TIMEOUT_MS: String(TEST_REDIS_TIMEOUT_MS), ...env }, HOSTNAME);
  const logs = captureLogs();
  const service = createWebService(config, createLogger({ name: 'web', destination: logs.stream }));
  t.after(async () => {
    // Cleanup never waits out a grace period, even when a test failed with a request hanging.
    service.server.closeAllConnections();
    await service.close();
  });
  const port = await service.listen();
  if (waitReady) await waitFor('the replica to see Redis ready', async () => (await get(port, '/readyz')).status === 200);
  return { service, port, logs };
}

export type { Reply, RequestOptions };

export const get = httpRequest;

/** The number in the default text message, or NaN. */
export function visitsIn(body: string): number {
  const match = /^I've been visited (\d+) times, and my hostname is test-host\n$/.exec(body);
  return match ? Number(match[1]) : Number.NaN;
}

/** Polls `condition` until it holds; fails with `what` after the deadline. Never a fixed sleep. */
export async function waitFor(what: string, condition: () => Promise<boolean> | boolean, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Holds every write command (the visit script included) until `unpause`, and lets the test
 * see when one is waiting: the way to keep a GET / in flight for as long as a test needs. */
export async function pauseRedisWrites(redis: RedisServer): Promise<{ waiting(n: number): Promise<void>; unpause(): Promise<void> }> {
  assert.equal(await redis.command('CLIENT', 'PAUSE', '20000', 'WRITE'), '+OK\r\n');
  let unpaused = false;
  return {
    waiting: (n) =>
      waitFor(`${n} command(s) held by the paused Redis`, async () => /\r\nblocked_clients:(\d+)\r\n/.exec(await redis.command('INFO', 'clients'))?.[1] === String(n)),
    unpause: async () => {
      if (unpaused) return;
      unpaused = true;
      await redis.command('CLIENT', 'UNPAUSE');
    },
  };
}

const WEB_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Runs the web replica's `src/main.ts` with `env` added to this process's environment. */
export function spawnMain(t: Cleanup, env: Env): MainProcess {
  return spawnPackageMain(t, WEB_DIR, env);
}

// Starting the pieces of the topology as child processes, each on a free loopback port, and
// waiting until each one answers: Redis, web replicas, our balancer, the Node references.

import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BALANCER_NODE_FLAGS } from '@visit-counter/shared';
import { freePort, redisAnswersAs, redisCommand } from '@visit-counter/shared/test-helpers';
import { httpGet, startProcess, waitUntil, type Managed } from './processes.js';

export type Runtime = 'source' | 'dist';

export interface Service {
  process: Managed;
  port: number;
  address: string;
}

export const ROOT = new URL('../../', import.meta.url).pathname;
const HOST = '127.0.0.1';

/** The node arguments that run a package's main: through tsx from src, or the compiled dist. */
function packageMain(name: 'web' | 'balancer', runtime: Runtime, root = ROOT): string[] {
  return runtime === 'dist'
    ? [join(root, 'packages', name, 'dist', 'main.js')]
    : ['--conditions=source', '--import', 'tsx', join(root, 'packages', name, 'src', 'main.ts')];
}

/** Is every package's dist newer than its src? Otherwise the dist run would measure stale code. */
export function distIsCurrent(root = ROOT): boolean {
  const newest = (dir: string): number => {
    let latest = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }
    return latest;
  };
  return ['shared', 'web', 'balancer'].every((name) => {
    const dist = join(root, 'packages', name, 'dist');
    return existsSync(dist) && newest(dist) >= newest(join(root, 'packages', name, 'src'));
  });
}

export interface RedisService {
  process: Managed;
  port: number;
  url: string;
}

/** A real redis-server on a free loopback port: no persistence, its files in the bench's temp dir. */
export async function startRedisServer(dir: string): Promise<RedisService> {
  const port = await freePort();
  const process_ = startProcess('redis-server', 'redis-server', ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--maxclients', '10000'], {
    manyFiles: true,
  });
  await waitUntil('redis-server to answer as itself', () => redisAnswersAs(port, process_.pid), process_);
  return { process: process_, port, url: `redis://${HOST}:${port}` };
}

/** The visit counter's value (0 before the first visit). */
export async function counterValue(redis: RedisService, key = 'visits'): Promise<number> {
  const reply = await redisCommand(redis.port, ['GET', key]);
  return reply.startsWith('$-1') ? 0 : Number(reply.split('\r\n')[1]);
}

export interface WebOptions {
  runtime: Runtime;
  redisUrl: string;
  logLevel: string;
  /** LOG_FORMAT; the services' default (json) when not given. */
  logFormat?: string | undefined;
  name: string;
}

export async function startWeb({ runtime, redisUrl, logLevel, logFormat, name }: WebOptions): Promise<Service> {
  const port = await freePort();
  const process_ = startProcess(name, process.execPath, packageMain('web', runtime), {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST, REDIS_URL: redisUrl, LOG_LEVEL: logLevel, LOG_FORMAT: logFormat, INSTANCE_NAME: name, NODE_ENV: 'production' },
    manyFiles: true,
  });
  const address = `${HOST}:${port}`;
  await waitUntil(`${name} to be ready`, async () => (await httpGet(`http://${address}/readyz`)).status === 200, process_);
  return { process: process_, port, address };
}

export interface BalancerOptions {
  runtime: Runtime;
  backends: readonly string[];
  logLevel: string;
  /** LOG_FORMAT; the services' default (json) when not given. */
  logFormat?: string | undefined;
  workers?: number;
  name: string;
  /** Another checkout to run the balancer from (BENCH_COMPARE_ROOT): a change measured side by side. */
  root?: string;
}

export async function startBalancer({ runtime, backends, logLevel, logFormat, workers, name, root = ROOT }: BalancerOptions): Promise<Service> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST, BACKENDS: backends.join(','), LOG_LEVEL: logLevel, LOG_FORMAT: logFormat, NODE_ENV: 'production' };
  if (workers !== undefined) env['WORKERS'] = String(workers);
  const process_ = startProcess(name, process.execPath, [...BALANCER_NODE_FLAGS, ...packageMain('balancer', runtime, root)], { cwd: root, env, manyFiles: true });
  const address = `${HOST}:${port}`;
  // Ready when the status page (of whichever worker answers) shows every backend up, several times in a row.
  let streak = 0;
  await waitUntil(
    `${name} to see its backends up`,
    async () => {
      const { status, body } = await httpGet(`http://${address}/_lb/status`);
      const up = status === 200 ? (JSON.parse(body) as { totals?: { up?: number } }).totals?.up : undefined;
      streak = up === backends.length ? streak + 1 : 0;
      return streak >= (workers ?? 1) * 3;
    },
    process_,
  );
  return { process: process_, port, address };
}

/** A bench/references/*.ts program (hello world, http-proxy) on a free port. */
export async function startReference(name: string, file: string, extraArgs: readonly string[] = []): Promise<Service> {
  const port = await freePort();
  const process_ = startProcess(name, process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'references', file), String(port), ...extraArgs], {
    cwd: ROOT,
    manyFiles: true,
  });
  const address = `${HOST}:${port}`;
  await waitUntil(`${name} to answer`, async () => (await httpGet(`http://${address}/`)).status < 500, process_);
  return { process: process_, port, address };
}

/** nginx or HAProxy, started elsewhere: wait until it forwards. */
export async function waitForwarding(process_: Managed, port: number): Promise<Service> {
  const address = `${HOST}:${port}`;
  await waitUntil(`${process_.name} to forward`, async () => (await httpGet(`http://${address}/healthz`)).status === 200, process_);
  return { process: process_, port, address };
}

export { freePort };

// The compose topology as local processes, for people without Docker: a redis-server in a
// temporary directory (unless REDIS_URL is given), WEB_REPLICAS web replicas (web-1, web-2, ...)
// and the balancer on PORT, with one combined log whose lines are prefixed with the process
// name the way `docker compose up` does it. Ctrl-C or SIGTERM stops everything and exits 0;
// a process that exits on its own stops the rest and exits 1.
//
//   node --import tsx scripts/local-topology.ts
//   PORT=9000 WEB_REPLICAS=5 REDIS_URL=redis://127.0.0.1:6379 node --import tsx scripts/local-topology.ts
//
// PORT=0 picks a free port; the URL is printed on the `ready:` line either way.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BALANCER_NODE_FLAGS, maskUrlPassword } from '@visit-counter/shared';

const LOCAL_TOPOLOGY_DEFAULTS = {
  port: 8080, // the balancer's port on 127.0.0.1
  webReplicas: 3,
  maxWebReplicas: 64,
  redisDeadlineMs: 10_000, // 10 seconds for redis-server to answer PING
  readyDeadlineMs: 30_000, // 30 seconds for the balancer to report every replica up
  stopDeadlineMs: 5_000, // 5 seconds for a process to exit after SIGTERM, then SIGKILL
  outputDrainMs: 1_000, // 1 second to read the last lines of a process that has exited
  pollIntervalMs: 250, // 250 ms between two start-up probes (each status poll is an access log line)
} as const;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WEB_ENTRY = fileURLToPath(new URL('../packages/web/src/main.ts', import.meta.url));
const BALANCER_ENTRY = fileURLToPath(new URL('../packages/balancer/src/main.ts', import.meta.url));
const SELF = 'topology';

interface Options {
  port: number;
  webReplicas: number;
  redisUrl: string | undefined;
}

class UsageError extends Error {}

function readOptions(env: NodeJS.ProcessEnv): Options {
  const value = (name: string): string | undefined => {
    const text = env[name]?.trim();
    return text === undefined || text === '' ? undefined : text;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const text = value(name);
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      throw new UsageError(`${name}="${text}": expected an integer from ${min} to ${max}`);
    }
    return Number(text);
  };
  return {
    port: integer('PORT', LOCAL_TOPOLOGY_DEFAULTS.port, 0, 65_535),
    webReplicas: integer('WEB_REPLICAS', LOCAL_TOPOLOGY_DEFAULTS.webReplicas, 1, LOCAL_TOPOLOGY_DEFAULTS.maxWebReplicas),
    redisUrl: value('REDIS_URL'),
  };
}

function hasRedisServer(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/** A port that was free a moment ago on 127.0.0.1 (never one handed out before in this run). */
function createPortPicker(): () => Promise<number> {
  const given = new Set<number>();
  const once = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const port = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => resolve(port));
      });
    });
  return async () => {
    for (;;) {
      const port = await once();
      if (!given.has(port)) {
        given.add(port);
        return port;
      }
    }
  };
}

/** Waits for `promise`, or `ms` at most. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.write('PING\r\n');
  });
}

interface StatusTotals {
  backends: number;
  up: number;
  /** The backends it balances over: ours are on ports this script picked, so another balancer's are not. */
  ids: string[];
}

function balancerTotals(port: number): Promise<StatusTotals | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/_lb/status', agent: false, timeout: 1_000, headers: { accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('error', () => resolve(undefined));
      res.on('end', () => {
        try {
          const status = JSON.parse(body) as { totals?: Partial<StatusTotals>; backends?: Array<{ id?: unknown }> };
          const { totals } = status;
          const ids = (status.backends ?? []).map((backend) => String(backend.id)).sort();
          resolve(typeof totals?.up === 'number' && typeof totals.backends === 'number' ? { up: totals.up, backends: totals.backends, ids } : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

interface Child {
  name: string;
  process: ChildProcess;
  /** Resolves once the process has exited and its output has been read. */
  closed: Promise<void>;
}

function createTopology(options: Options, env: NodeJS.ProcessEnv) {
  const width = Math.max(SELF.length, 'balancer'.length, `web-${options.webReplicas}`.length);
  const print = (name: string, text: string): void => {
    process.stdout.write(`${name.padEnd(width)} | ${text}\n`);
  };
  const children: Child[] = [];
  const pickPort = createPortPicker();
  let tempDir: string | undefined;
  let stopping: Promise<never> | undefined;

  // Children inherit the environment, so LOG_LEVEL, REDIS_KEY, MESSAGE_TEMPLATE... reach them;
  // what this script decides for each of them is set explicitly below.
  const baseEnv: NodeJS.ProcessEnv = { ...env, LOG_FORMAT: env['LOG_FORMAT'] || 'pretty' };
  delete baseEnv['BACKENDS'];
  delete baseEnv['BACKENDS_DNS'];
  delete baseEnv['DNS_SERVER'];
  delete baseEnv['INSTANCE_NAME'];

  const start = (name: string, command: string, args: string[], childEnv: NodeJS.ProcessEnv): Child => {
    const proc = spawn(command, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const streams = [proc.stdout, proc.stderr].map((stream) => {
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => print(name, line));
      return new Promise<void>((resolve) => lines.once('close', resolve));
    });
    const exited = new Promise<string>((resolve) => {
      proc.once('error', (error) => resolve(`could not be started: ${error.message}`));
      proc.once('exit', (code, signal) => resolve(signal === null ? `exited with code ${code}` : `was killed by ${signal}`));
    });
    // The rest of its output, unless a stray grandchild keeps the pipes open.
    const closed = exited.then(async (how) => {
      await settleWithin(Promise.all(streams), LOCAL_TOPOLOGY_DEFAULTS.outputDrainMs);
      if (stopping === undefined) void stop(1, `${name} ${how} unexpectedly; stopping everything`);
    });
    const child = { name, process: proc, closed };
    children.push(child);
    return child;
  };

  const isRunning = (child: Child): boolean => child.process.exitCode === null && child.process.signalCode === null && child.process.pid !== undefined;

  const stopChild = async (child: Child): Promise<void> => {
    if (!isRunning(child)) return child.closed;
    child.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      print(SELF, `${child.name} did not stop within ${LOCAL_TOPOLOGY_DEFAULTS.stopDeadlineMs} ms: killing it`);
      child.process.kill('SIGKILL');
    }, LOCAL_TOPOLOGY_DEFAULTS.stopDeadlineMs);
    await child.closed;
    clearTimeout(timer);
  };

  /** Stops in reverse start order (balancer, replicas, Redis), removes the temporary directory, exits. */
  const stop = (code: number, reason: string): Promise<never> => {
    stopping ??= (async () => {
      print(SELF, reason);
      const stages = [
        children.filter((child) => child.name === 'balancer'),
        children.filter((child) => child.name.startsWith('web-')),
        children.filter((child) => child.name === 'redis'),
      ];
      for (const stage of stages) await Promise.all(stage.map(stopChild));
      if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
      print(SELF, code === 0 ? 'stopped' : `stopped (exit code ${code})`);
      process.exit(code);
    })();
    return stopping;
  };

  /** The last resort when the script itself dies: no child outlives it. */
  const killAll = (): void => {
    for (const child of children) if (isRunning(child)) child.process.kill('SIGKILL');
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  };

  const startRedis = async (): Promise<string> => {
    const port = await pickPort();
    tempDir = mkdtempSync(join(tmpdir(), 'visit-counter-local-'));
    // No snapshots, no append-only file: this Redis lives as long as the script does.
    const redis = start('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', tempDir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'], env);
    print(SELF, `redis on 127.0.0.1:${port} (pid ${redis.process.pid}, data in ${tempDir}, removed on exit)`);
    const deadline = Date.now() + LOCAL_TOPOLOGY_DEFAULTS.redisDeadlineMs;
    while (!(await redisPing(port))) {
      if (stopping !== undefined) return '';
      if (Date.now() > deadline) await stop(1, `redis-server did not answer PING within ${LOCAL_TOPOLOGY_DEFAULTS.redisDeadlineMs} ms; stopping everything`);
      await delay(LOCAL_TOPOLOGY_DEFAULTS.pollIntervalMs);
    }
    return `redis://127.0.0.1:${port}`;
  };

  const waitUntilReady = async (port: number, backends: readonly string[]): Promise<void> => {
    const deadline = Date.now() + LOCAL_TOPOLOGY_DEFAULTS.readyDeadlineMs;
    const ours = [...backends].sort().join(',');
    let totals: StatusTotals | undefined;
    for (;;) {
      totals = await balancerTotals(port);
      if (stopping !== undefined) return;
      // Another balancer already on the port answers too, but over other backends.
      const mine = totals?.ids.join(',') === ours;
      if (mine && totals?.up === options.webReplicas) return;
      if (Date.now() > deadline) {
        const seen = totals === undefined ? 'the balancer did not answer' : mine ? `${totals.up} of ${totals.backends} up` : `what answers on port ${port} balances over ${totals.ids.join(', ') || 'nothing'}`;
        await stop(1, `the balancer did not report ${options.webReplicas} replica(s) up within ${LOCAL_TOPOLOGY_DEFAULTS.readyDeadlineMs} ms (${seen}); is Redis reachable? stopping everything`);
      }
      await delay(LOCAL_TOPOLOGY_DEFAULTS.pollIntervalMs);
    }
  };

  const run = async (): Promise<void> => {
    const redisUrl = options.redisUrl ?? (await startRedis());
    if (stopping !== undefined) return;
    if (options.redisUrl !== undefined) print(SELF, `using the Redis at REDIS_URL (${maskUrlPassword(options.redisUrl)})`);

    const backends: string[] = [];
    for (let i = 1; i <= options.webReplicas; i += 1) {
      const name = `web-${i}`;
      const port = await pickPort();
      const web = start(name, process.execPath, ['--conditions=source', '--import', 'tsx', WEB_ENTRY], {
        ...baseEnv,
        PORT: String(port),
        HOST: '127.0.0.1',
        INSTANCE_NAME: name,
        REDIS_URL: redisUrl,
      });
      print(SELF, `${name} on 127.0.0.1:${port} (pid ${web.process.pid})`);
      backends.push(`127.0.0.1:${port}`);
    }

    const port = options.port === 0 ? await pickPort() : options.port;
    const balancer = start('balancer', process.execPath, [...BALANCER_NODE_FLAGS, '--conditions=source', '--import', 'tsx', BALANCER_ENTRY], {
      ...baseEnv,
      PORT: String(port),
      HOST: '127.0.0.1',
      BACKENDS: backends.join(','),
    });
    print(SELF, `balancer on 127.0.0.1:${port} (pid ${balancer.process.pid}) in front of ${backends.join(', ')}`);

    await waitUntilReady(port, backends);
    if (stopping !== undefined) return;
    print(SELF, `ready: http://127.0.0.1:${port}/ (${options.webReplicas} web replica(s) up behind the balancer; Ctrl-C stops everything)`);
  };

  return { run, stop, killAll };
}

function main(): void {
  let options: Options;
  try {
    options = readOptions(process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`local-topology: ${error.message}\n`);
    process.exit(1);
  }
  if (options.redisUrl === undefined && !hasRedisServer()) {
    process.stderr.write(
      'local-topology: redis-server was not found on PATH: install it (`apt-get install redis-server` on Debian/Ubuntu, `brew install redis` on macOS) or set REDIS_URL to a running Redis.\n',
    );
    process.exit(1);
  }
  const topology = createTopology(options, process.env);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    // A second Ctrl-C does not wait for the deadline.
    if (signals > 1) topology.killAll();
    else void topology.stop(0, `${signal} received: stopping everything`);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  process.on('exit', topology.killAll);
  topology.run().catch((error: unknown) => {
    void topology.stop(1, `start-up failed: ${error instanceof Error ? error.message : String(error)}; stopping everything`);
  });
}

main();

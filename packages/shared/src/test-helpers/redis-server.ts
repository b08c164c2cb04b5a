// A real redis-server for tests: started on a free loopback port in a private temporary
// directory, stopped (and the directory removed) by stop(). No mocks: the code under test
// talks to the same server it talks to in production.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Sends a command and returns the raw RESP reply (tests use GET, SET, FLUSHALL). */
  command(...args: string[]): Promise<string>;
  /** The integer value at a key, 0 when the key does not exist. */
  getNumber(key: string): Promise<number>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing is answered. */
  pause(): void;
  resume(): void;
  /** Kills the process and starts a new one on the same port (data is not kept). */
  restart(): Promise<void>;
  /** Kills the process; start() brings it back on the same port. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const STARTUP_DEADLINE_MS = 10_000;

export function findRedisBinary(): string {
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (found.error || found.status !== 0) {
    throw new Error(
      'redis-server was not found on PATH; the tests need a real Redis: install it with `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS).',
    );
  }
  return 'redis-server';
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function redisCommand(port: number, args: string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis command ${args[0]} timed out`));
    }, timeoutMs);
    timer.unref();
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (isComplete(reply)) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
  });
}

function isComplete(reply: string): boolean {
  if (!reply.endsWith('\r\n')) return false;
  if (reply.startsWith('$')) {
    const length = Number(reply.slice(1, reply.indexOf('\r\n')));
    return length < 0 || reply.length >= reply.indexOf('\r\n') + 2 + length + 2;
  }
  return true;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Does the Redis on `port` answer, and is it the process `pid` (not some other one that took the port)? */
export async function redisAnswersAs(port: number, pid: number | undefined): Promise<boolean> {
  try {
    return (await redisCommand(port, ['INFO', 'server'], 500)).includes(`\r\nprocess_id:${pid}\r\n`);
  } catch {
    return false; // not listening yet
  }
}

/** Ready when the server on `port` answers and is `child`. */
async function waitUntilReady(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited during start-up:\n${output()}`);
    if (await redisAnswersAs(port, child.pid)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server did not answer as itself (INFO process_id) within ${STARTUP_DEADLINE_MS} ms:\n${output()}`);
}

/** Start-up attempts on fresh ports: another process may take a free port before Redis binds it. */
const PORT_ATTEMPTS = 3;

export async function startRedis(): Promise<RedisServer> {
  const binary = findRedisBinary();
  const dir = mkdtempSync(join(tmpdir(), 'visit-counter-redis-'));
  let port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    let output = '';
    const proc = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child = proc;
    await waitUntilReady(port, proc, () => output);
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc) return;
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await waitForExit(proc);
  };

  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (error) {
      if (attempt >= PORT_ATTEMPTS || !/already in use/i.test((error as Error).message)) throw error;
      port = await freePort();
    }
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    command: (...args) => redisCommand(port, args),
    async getNumber(key) {
      const reply = await redisCommand(port, ['GET', key]);
      if (reply.startsWith('$-1')) return 0;
      return Number(reply.split('\r\n')[1]);
    },
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async restart() {
      await kill();
      await start();
    },
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

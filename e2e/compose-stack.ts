// Driving the real compose stack from a test: docker-compose under a project name of its
// own, on a port of our choosing, and a plain HTTP client that opens a connection per
// request the way curl does.

import { spawn } from 'node:child_process';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PROJECT = 'visit-counter-e2e';
const COMPOSE = process.env['COMPOSE'] ?? 'docker-compose';
export const DOCKER = process.env['DOCKER'] ?? 'docker';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], env: Record<string, string> = {}, timeoutMs = 600_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Runs docker; its output, or an error with what it said when it failed. */
export async function docker(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<string> {
  const result = await run(DOCKER, args, env, timeoutMs);
  if (result.code !== 0) throw new Error(`${DOCKER} ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** The non-empty lines of a command's output. */
export function lines(out: string): string[] {
  return out.split('\n').map((line) => line.trim()).filter(Boolean);
}

/** `preferred` when it is free on `host` (a published port binds 0.0.0.0), else any free port. */
export async function pickPort(preferred: number, host = '0.0.0.0'): Promise<number> {
  const tryPort = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, host, () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
      });
    });
  return (await tryPort(preferred)) ?? (await tryPort(0)) ?? 0;
}

export interface LbStatus {
  acceptPerTurn: number;
  portSharing: string;
  /** The balancer's Node.js version. */
  node: string;
  workers?: number;
  memory: { rssBytes: number; primaryRssBytes?: number; heapUsedBytes: number; heapLimitBytes: number };
  totals: { up: number };
  backends: Array<{ address: string; port: number; state: string; perWorker?: Array<{ worker: number; requests: number }> }>;
  /** Each HOST_ROUTES group (`*`: the default one), with its backends and those up. */
  routes: Array<{ route: string; backends: number; up: number }>;
}

/** The balancer's /_lb/status, parsed. */
export async function lbStatus(port: number): Promise<LbStatus> {
  const reply = await get(port, '/_lb/status');
  if (reply.status !== 200) throw new Error(`/_lb/status answered ${reply.status}: ${reply.body}`);
  return JSON.parse(reply.body) as LbStatus;
}

async function removeContainer(name: string): Promise<void> {
  await docker(['rm', '-f', name]).catch(() => undefined);
}

export interface StackOptions {
  /** The compose project name; each test file's stack has its own. */
  project?: string;
  /** The compose files, in order. */
  files?: readonly string[];
}

export function createStack(httpPort: number, { project = PROJECT, files = ['compose.yaml'] }: StackOptions = {}) {
  const env = { HTTP_PORT: String(httpPort), BUILD_NETWORK: process.env['BUILD_NETWORK'] ?? 'host' };
  const compose = async (...args: string[]): Promise<string> => {
    const result = await run(COMPOSE, ['-p', project, ...files.flatMap((file) => ['-f', file]), ...args], env);
    if (result.code !== 0) throw new Error(`${COMPOSE} ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
    return result.stdout;
  };
  return {
    compose,
    /** Container ids of a service. */
    async ids(service: string): Promise<string[]> {
      return lines(await compose('ps', '-q', service));
    },
    /**
     * A second balancer container from the stack's image, with `env`, on the stack's networks
     * (so `web` resolves) and published on 127.0.0.1:`hostPort`; removed by `remove()`.
     */
    async extraBalancer(name: string, hostPort: number, env: Record<string, string>): Promise<{ remove(): Promise<void> }> {
      const container = `${project}-${name}`;
      const remove = (): Promise<void> => removeContainer(container);
      await remove();
      const envArgs = Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
      await docker(['create', '--name', container, '--init', '--network', `${project}_frontend`, '-p', `127.0.0.1:${hostPort}:8080`, ...envArgs, 'visit-counter-balancer']);
      await docker(['network', 'connect', `${project}_backend`, container]);
      await docker(['start', container]);
      return { remove };
    },
    /**
     * Removes an extra balancer a killed run may have left behind: compose does not know it,
     * and `compose down` cannot remove the networks while it is attached to them.
     */
    removeExtraBalancer(name: string): Promise<void> {
      return removeContainer(`${project}-${name}`);
    },
    async counter(key = 'visits'): Promise<number> {
      const out = (await compose('exec', '-T', 'redis', 'redis-cli', 'GET', key)).trim();
      return out === '' ? 0 : Number(out);
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function get(port: number, path = '/', timeoutMs = 10_000, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const VISIT = /^I've been visited (\d+) times, and my hostname is (\S+)\n$/;

export function parseVisit(body: string): { count: number; hostname: string } {
  const match = VISIT.exec(body);
  if (!match) throw new Error(`not a visit answer: ${JSON.stringify(body)}`);
  return { count: Number(match[1]), hostname: match[2] as string };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

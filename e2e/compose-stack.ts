// Driving the real compose stack from a test: docker-compose under a project name of its
// own, on a port of our choosing, and a plain HTTP client that opens a connection per
// request the way curl does.

import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PROJECT = 'visit-counter-e2e';
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

export function createStack(httpPort: number) {
  const env = { HTTP_PORT: String(httpPort), BUILD_NETWORK: process.env['BUILD_NETWORK'] ?? 'host' };
  const compose = async (...args: string[]): Promise<string> => {
    const result = await run(COMPOSE, ['-p', PROJECT, '-f', 'compose.yaml', ...args], env);
    if (result.code !== 0) throw new Error(`${COMPOSE} ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
    return result.stdout;
  };
  const docker = async (...args: string[]): Promise<string> => {
    const result = await run(DOCKER, args);
    if (result.code !== 0) throw new Error(`${DOCKER} ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
    return result.stdout;
  };
  return {
    compose,
    docker,
    /** Container ids of a service. */
    async ids(service: string): Promise<string[]> {
      return (await compose('ps', '-q', service)).split('\n').map((line) => line.trim()).filter(Boolean);
    },
    async counter(): Promise<number> {
      const out = (await compose('exec', '-T', 'redis', 'redis-cli', 'GET', 'visits')).trim();
      return out === '' ? 0 : Number(out);
    },
  };
}

export interface Reply {
  status: number;
  body: string;
}

export function get(port: number, path = '/', timeoutMs = 10_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
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

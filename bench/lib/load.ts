// The load generator: wrk when it is installed (a C event loop costs far less CPU than the
// Node servers it measures), otherwise a small Node generator on an undici Pool, which takes
// CPU from the systems under test on this 2-core machine and so reads lower; the table says so.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { runToEnd } from './processes.js';

export interface LoadResult {
  generator: 'wrk' | 'node';
  requests: number;
  durationS: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Socket-level failures: connect, read, write, timeout (wrk's split). */
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** Responses with status >= 400 (wrk's "Non-2xx or 3xx responses"). */
  non2xx: number;
  /** Visit runs only: visit requests sent, answered 2xx, answered otherwise. `rps` is then the visit phase's rate. */
  visits?: { sent: number; ok: number; failed: number };
}

export interface LoadOptions {
  url: string;
  connections: number;
  threads: number;
  durationS: number;
  /** Count visits for `durationS`, then send `drainPath` for `drainMs` more, so every visit sent is answered before the end. */
  visits?: { drainMs: number; drainPath: string };
  /** wrk's per-request timeout, in seconds (its default is 2). */
  timeoutS?: number;
}

/** Connect, read and write errors; wrk's timeouts (slow answers) are counted apart. */
export function socketErrorCount(result: LoadResult): number {
  const { connect, read, write } = result.socketErrors;
  return connect + read + write;
}

export function haveWrk(): boolean {
  const probe = spawnSync('wrk', ['-v'], { stdio: 'ignore' });
  return !probe.error;
}

const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

export async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const { url, connections, threads, durationS } = options;
  // A visit run asks for visits for `durationS`, then drains for at least `drainMs` on top
  // (wrk takes whole seconds).
  const totalS = options.visits ? Math.ceil(durationS + options.visits.drainMs / 1000) : Math.max(1, Math.round(durationS));
  const args = ['-t', String(Math.min(threads, connections)), '-c', String(connections), '-d', `${totalS}s`];
  if (options.timeoutS !== undefined) args.push('--timeout', `${options.timeoutS}s`);
  if (options.visits) {
    args.push('-s', here('wrk-visits.lua'), url, '--', String(Math.round(durationS * 1000)), options.visits.drainPath);
  } else {
    args.push('-s', here('wrk-summary.lua'), url);
  }
  const { code, stdout, stderr } = await runToEnd('wrk', 'wrk', args, { manyFiles: true });
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (code !== 0 || !line) throw new Error(`wrk ${args.join(' ')} failed (exit ${code}):\n${stdout}\n${stderr}`);
  const raw = JSON.parse(line.slice('BENCH_JSON '.length)) as Record<string, number>;
  const n = (key: string): number => raw[key] ?? 0;
  const seconds = n('durationUs') / 1e6;
  // A visit run's rate is that of its visit phase: the drain requests are cheaper and would flatter it.
  const rps = options.visits ? (n('visitsOk') + n('visitsFailed')) / durationS : n('requests') / seconds;
  const result: LoadResult = {
    generator: 'wrk',
    requests: n('requests'),
    durationS: round(seconds, 3),
    rps: Math.round(rps),
    p50Ms: round(n('p50Us') / 1000, 2),
    p99Ms: round(n('p99Us') / 1000, 2),
    maxMs: round(n('maxUs') / 1000, 2),
    socketErrors: { connect: n('connect'), read: n('read'), write: n('write'), timeout: n('timeout') },
    non2xx: n('status'),
  };
  if (options.visits) result.visits = { sent: n('visitsSent'), ok: n('visitsOk'), failed: n('visitsFailed') };
  return result;
}

/** The fallback: `connections` loops on an undici Pool, each sending its next request when the last is answered. */
export async function runNodeLoad(options: LoadOptions): Promise<LoadResult> {
  const { url, connections, durationS } = options;
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections, pipelining: 1, headersTimeout: (options.timeoutS ?? 10) * 1000 });
  const latencies: number[] = [];
  const socketErrors = { connect: 0, read: 0, write: 0, timeout: 0 };
  let non2xx = 0;
  const visits = { sent: 0, ok: 0, failed: 0 };
  const started = performance.now();
  const visitEnd = started + durationS * 1000;
  const end = options.visits ? visitEnd + options.visits.drainMs : visitEnd;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      // Unlike wrk, this generator waits for every answer, so it needs no drain phase to count exactly.
      const isVisit = options.visits !== undefined && performance.now() < visitEnd;
      const path = options.visits && !isVisit ? options.visits.drainPath : target.pathname + target.search;
      const sentAt = performance.now();
      if (isVisit) visits.sent += 1;
      try {
        const response = await pool.request({ path, method: 'GET', headers: { 'x-request-id': isVisit ? 'bench-visit' : 'bench-drain' } });
        await response.body.dump();
        latencies.push(performance.now() - sentAt);
        if (response.statusCode >= 400) non2xx += 1;
        if (isVisit) {
          if (response.statusCode >= 200 && response.statusCode < 300) visits.ok += 1;
          else visits.failed += 1;
        }
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        if (code.includes('CONNECT') || code === 'ECONNREFUSED') socketErrors.connect += 1;
        else if (code.includes('TIMEOUT')) socketErrors.timeout += 1;
        else socketErrors.read += 1;
        if (isVisit) visits.failed += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const result: LoadResult = {
    generator: 'node',
    requests: latencies.length,
    durationS: round(seconds, 3),
    rps: Math.round(options.visits ? (visits.ok + visits.failed) / durationS : latencies.length / seconds),
    p50Ms: round(at(0.5), 2),
    p99Ms: round(at(0.99), 2),
    maxMs: round(latencies[latencies.length - 1] ?? 0, 2),
    socketErrors,
    non2xx,
  };
  if (options.visits) result.visits = visits;
  return result;
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

// The benchmark's options, read from the environment once and checked, with the defaults in
// one place. BENCH_QUICK=1 shrinks every duration for a smoke run of about a minute.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from './topology.js';

export const BENCH_DEFAULTS = {
  durationS: 5, // seconds per measured run
  rounds: 3, // interleaved rounds per system
  connections: 50, // client connections for the comparison runs
  threads: 1, // wrk threads for the comparison runs (one leaves the other core to the system under test)
  warmupS: 2, // seconds of unrecorded load per system before the rounds
  crowdConnections: 1000, // a compose user's `wrk -t4 -c1000`
  crowdThreads: 4,
  crowdS: 8, // seconds of the 1000-connection run (the compose user's is 20)
  sustainS: 24, // seconds of the sustained 1000-connection run (three parts, memory read after each)
  distinctRequests: 2000, // visits of the "no count shown twice" check
  distinctConcurrency: 50,
} as const;

// A smoke run: every scenario and check once, figures too short to quote.
export const QUICK = { durationS: 1, rounds: 1, warmupS: 1, crowdS: 2, sustainS: 0, distinctRequests: 300 } as const;

export const SCENARIOS = ['balancer-bound', 'end-to-end', 'crowd'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  quick: boolean;
  durationS: number;
  rounds: number;
  connections: number;
  threads: number;
  warmupS: number;
  crowdConnections: number;
  crowdThreads: number;
  crowdS: number;
  sustainS: number;
  distinctRequests: number;
  distinctConcurrency: number;
  /** 'auto': the compiled dist/ when it is newer than src/ (what the Docker images run), else src/ via tsx. */
  runtime: Runtime | 'auto';
  /** Workers of the extra "our balancer, WORKERS=n" row; 0 when there is none. */
  workers: number;
  generator: 'wrk' | 'node' | 'auto';
  scenarios: Scenario[];
  /** BENCH_COMPARE_ROOT: another checkout of this repository whose balancer gets rows of its own. */
  compareRoot: string | undefined;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number, allowZero = false): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`${name}=${JSON.stringify(raw)}: expected a ${allowZero ? 'non-negative' : 'positive'} number`);
  }
  return value;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, allowZero = false): number {
  const value = positive(env, name, fallback, allowZero);
  if (!Number.isInteger(value)) throw new Error(`${name}=${JSON.stringify(env[name])}: expected a whole number`);
  return value;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new Error(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
  return raw as T;
}

function compareRoot(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env['BENCH_COMPARE_ROOT'];
  if (raw === undefined || raw === '') return undefined;
  if (!existsSync(join(raw, 'packages', 'balancer', 'src', 'main.ts'))) {
    throw new Error(`BENCH_COMPARE_ROOT=${JSON.stringify(raw)}: expected a checkout of this repository (no packages/balancer/src/main.ts there)`);
  }
  return raw;
}

export function readBenchOptions(env: NodeJS.ProcessEnv): BenchOptions {
  const quick = env['BENCH_QUICK'] === '1' || env['BENCH_QUICK'] === 'true';
  const base = quick ? { ...BENCH_DEFAULTS, ...QUICK } : BENCH_DEFAULTS;
  const scenarios = (env['BENCH_SCENARIOS'] ?? SCENARIOS.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`BENCH_SCENARIOS=${JSON.stringify(env['BENCH_SCENARIOS'])}: expected a comma-separated list of ${SCENARIOS.join(', ')}`);
  }
  return {
    quick,
    durationS: positive(env, 'BENCH_DURATION_S', base.durationS),
    rounds: integer(env, 'BENCH_ROUNDS', base.rounds),
    connections: integer(env, 'BENCH_CONNECTIONS', base.connections),
    threads: integer(env, 'BENCH_THREADS', base.threads),
    warmupS: positive(env, 'BENCH_WARMUP_S', base.warmupS, true),
    crowdConnections: integer(env, 'BENCH_CROWD_CONNECTIONS', base.crowdConnections),
    crowdThreads: integer(env, 'BENCH_CROWD_THREADS', base.crowdThreads),
    crowdS: positive(env, 'BENCH_CROWD_S', base.crowdS),
    sustainS: positive(env, 'BENCH_SUSTAIN_S', base.sustainS, true),
    distinctRequests: integer(env, 'BENCH_DISTINCT_REQUESTS', base.distinctRequests),
    distinctConcurrency: integer(env, 'BENCH_DISTINCT_CONCURRENCY', base.distinctConcurrency),
    runtime: oneOf(env, 'BENCH_RUNTIME', ['auto', 'source', 'dist'] as const, 'auto'),
    workers: integer(env, 'BENCH_WORKERS', 2, true),
    generator: oneOf(env, 'BENCH_GENERATOR', ['auto', 'wrk', 'node'] as const, 'auto'),
    scenarios: scenarios as Scenario[],
    compareRoot: compareRoot(env),
  };
}

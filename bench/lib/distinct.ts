// "No count was shown twice": wrk cannot see bodies, so this sends a fixed number of visits
// through the balancer from Node, reads the count out of every JSON answer, and checks that
// the counts are distinct, contiguous, and that Redis grew by exactly as many.

import { Pool } from 'undici';
import { settled } from './rounds.js';

export interface DistinctReport {
  requests: number;
  concurrency: number;
  ok: number;
  failed: number;
  distinct: number;
  first: number | undefined;
  last: number | undefined;
  counterDelta: number;
  contiguous: boolean;
  pass: boolean;
  seconds: number;
}

export async function checkDistinctCounts(url: string, counter: () => Promise<number>, requests: number, concurrency: number): Promise<DistinctReport> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1 });
  const before = await settled(counter);
  const counts: number[] = [];
  let failed = 0;
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < requests) {
      next += 1;
      try {
        const response = await pool.request({ path: '/', method: 'GET', headers: { accept: 'application/json' } });
        const text = await response.body.text();
        const visits = response.statusCode === 200 ? (JSON.parse(text) as { visits?: unknown }).visits : undefined;
        if (typeof visits === 'number') counts.push(visits);
        else failed += 1;
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  const counterDelta = (await settled(counter)) - before;
  const sorted = [...counts].sort((a, b) => a - b);
  const distinct = new Set(sorted).size;
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  const contiguous = sorted.length > 0 && first === before + 1 && last === before + sorted.length && distinct === sorted.length;
  return {
    requests,
    concurrency,
    ok: counts.length,
    failed,
    distinct,
    first,
    last,
    counterDelta,
    contiguous,
    pass: failed === 0 && contiguous && counterDelta === counts.length,
    seconds: Math.round(seconds * 1000) / 1000,
  };
}

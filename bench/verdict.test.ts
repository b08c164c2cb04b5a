// The benchmark's verdict (what decides its exit status): a broken promise of ours fails it,
// whatever a reference's row shows does not. Rows are built from run records by the bench's
// own `summarize`, as a run builds them.
// Run: node --conditions=source --import tsx --test bench/verdict.test.ts

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DistinctReport } from './lib/distinct.js';
import type { LoadResult } from './lib/load.js';
import { summarize, type Exactness, type Row, type RunRecord } from './lib/rounds.js';
import { judge } from './lib/verdict.js';

interface RunShape {
  errors?: Partial<LoadResult['socketErrors']>;
  non2xx?: number;
  /** A drained visit run: counter growth and 2xx visits (exact when equal). */
  drained?: [counterDelta: number, visitsOk: number];
  /** A throughput run of a counting system: visits counted beyond the answers seen, and the bound. */
  bounded?: [inFlightAtStop: number, bound: number];
}

function run({ errors = {}, non2xx = 0, drained, bounded }: RunShape): RunRecord {
  const load: LoadResult = {
    generator: 'wrk',
    requests: 1000,
    durationS: 1,
    rps: 1000,
    p50Ms: 1,
    p99Ms: 2,
    maxMs: 3,
    socketErrors: { connect: 0, read: 0, write: 0, timeout: 0, ...errors },
    non2xx,
  };
  const record: RunRecord = { round: 1, mode: drained ? 'exact' : 'throughput', load };
  let exactness: Exactness | undefined;
  if (drained) {
    const [counterDelta, visitsOk] = drained;
    exactness = { kind: 'drained', counterDelta, visitsOk, unanswered: 0, exact: counterDelta === visitsOk };
  } else if (bounded) {
    const [inFlightAtStop, bound] = bounded;
    exactness = { kind: 'bounded', counterDelta: 1000 + inFlightAtStop, visitsOk: 1000, inFlightAtStop, exact: inFlightAtStop >= 0 && inFlightAtStop <= bound };
  }
  if (exactness) record.exactness = exactness;
  return record;
}

function row(id: string, label: string, runs: RunShape[], scenario = 'end-to-end'): Row {
  const records = runs.map(run);
  return summarize(scenario, { id, label, url: 'http://127.0.0.1:1/' }, records.filter((r) => r.mode === 'throughput'), records.filter((r) => r.mode === 'exact'));
}

const EXACT: RunShape = { drained: [500, 500] };
const CLEAN: RunShape = {};
const DISTINCT_PASS: DistinctReport = { requests: 300, concurrency: 50, ok: 300, failed: 0, distinct: 300, first: 1, last: 300, counterDelta: 300, contiguous: true, pass: true, seconds: 1 };
const DISTINCT_FAIL: DistinctReport = { ...DISTINCT_PASS, distinct: 299, last: 299, pass: false };

const cases: Array<{ name: string; rows: Row[]; distinct?: DistinctReport; pass: boolean; judged: number; failures?: RegExp[]; notJudged?: RegExp[] }> = [
  {
    name: 'every row clean and exact',
    rows: [row('ours', 'our balancer', [EXACT, { bounded: [40, 50] }, CLEAN]), row('nginx', 'nginx', [EXACT, CLEAN]), row('hello', 'node hello-world', [CLEAN])],
    distinct: DISTINCT_PASS,
    pass: true,
    judged: 1,
  },
  { name: 'no rows at all', rows: [], pass: true, judged: 0 },
  {
    name: 'our drained visit run not exact',
    rows: [row('ours', 'our balancer', [{ drained: [501, 500] }, CLEAN])],
    pass: false,
    judged: 1,
    failures: [/^our balancer in end-to-end: the count was not exact \(NO 1\/1 off\)$/],
  },
  {
    name: 'our throughput run counted more than the visits in flight',
    rows: [row('ours', 'our balancer', [EXACT, { bounded: [51, 50] }])],
    pass: false,
    judged: 1,
    failures: [/^our balancer in end-to-end: the count was not exact \(yes 1\/1, 1 run\(s\) out of bound\)$/],
  },
  {
    name: "a reference's visit run not exact is shown, not judged",
    rows: [row('crowd', 'our balancer', [EXACT], 'crowd 1000 conns'), row('nginx', 'nginx', [{ drained: [1012, 1000] }], 'crowd 1000 conns')],
    pass: true,
    judged: 1,
    notJudged: [/^nginx in crowd 1000 conns: NO 1\/1 off$/],
  },
  {
    name: 'our row with socket errors, timeouts and non-2xx answers',
    rows: [row('crowd', 'our balancer', [EXACT, { errors: { read: 2, connect: 1, timeout: 2 }, non2xx: 5 }], 'crowd 1000 conns')],
    pass: false,
    judged: 1,
    failures: [/^our balancer in crowd 1000 conns: 3 socket errors$/, /: 2 answers timed out$/, /: 5 answers were not 2xx$/],
  },
  {
    name: 'our drained visit run with errors, exact as far as its 2xx go',
    rows: [row('ours', 'our balancer', [{ drained: [480, 480], errors: { read: 4 }, non2xx: 20 }, CLEAN])],
    pass: false,
    judged: 1,
    failures: [/: 4 socket errors$/, /: 20 answers were not 2xx$/],
  },
  {
    name: "a reference's errors are its own",
    rows: [row('ours', 'our balancer', [CLEAN]), row('http-proxy', 'http-proxy', [{ errors: { read: 7 }, non2xx: 1 }]), row('haproxy', 'HAProxy', [{ errors: { timeout: 4 } }])],
    pass: true,
    judged: 1,
  },
  {
    name: 'a count shown twice',
    rows: [row('ours', 'our balancer', [EXACT])],
    distinct: DISTINCT_FAIL,
    pass: false,
    judged: 1,
    failures: [/^no count shown twice: 300 of 300 visits answered with 299 distinct counts 1\.\.299/],
  },
];

for (const { name, rows, distinct, pass, judged, failures = [], notJudged = [] } of cases) {
  test(`verdict: ${name}`, () => {
    const verdict = judge(rows, distinct);
    assert.equal(verdict.pass, pass);
    assert.equal(verdict.judged, judged);
    assert.equal(verdict.failures.length, failures.length, verdict.failures.join('\n'));
    failures.forEach((pattern, i) => assert.match(verdict.failures[i] ?? '', pattern));
    assert.equal(verdict.notJudged.length, notJudged.length, verdict.notJudged.join('\n'));
    notJudged.forEach((pattern, i) => assert.match(verdict.notJudged[i] ?? '', pattern));
  });
}

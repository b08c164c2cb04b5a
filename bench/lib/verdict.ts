// The benchmark's verdict: our rows are judged, the references' only shown. Each of our rows
// must be clean (no socket error, no timeout, no non-2xx answer) and every visit run of ours
// exact (the counter grew by exactly the 2xx visits); the "no count shown twice" check must
// pass. A reference (nginx at 1000 connections, wrk's timeouts) can end a visit run with
// requests still on their way: that is its figure to show, not our promise to keep.

import type { DistinctReport } from './distinct.js';
import { socketErrorCount } from './load.js';
import type { Row } from './rounds.js';

/** Systems that are not ours: their rows are measured and shown, never judged. */
export const REFERENCE_IDS: ReadonlySet<string> = new Set(['nginx', 'haproxy', 'http-proxy', 'undici-proxy', 'hello']);

export interface Verdict {
  pass: boolean;
  /** How many of our rows were judged. */
  judged: number;
  /** One sentence per broken promise of ours. */
  failures: string[];
  /** A reference's visit run that did not add up, shown for context. */
  notJudged: string[];
}

export function judge(rows: readonly Row[], distinct: DistinctReport | undefined): Verdict {
  const failures: string[] = [];
  const notJudged: string[] = [];
  let judged = 0;
  for (const row of rows) {
    const where = `${row.system} in ${row.scenario}`;
    // From the runs themselves: the row's `exact` column is a summary for the eye.
    const exact = row.runs.every((run) => run.exactness?.exact ?? true);
    if (REFERENCE_IDS.has(row.id)) {
      if (!exact) notJudged.push(`${where}: ${row.exact}`);
      continue;
    }
    judged++;
    if (!exact) failures.push(`${where}: the count was not exact (${row.exact})`);
    // Over every run, the drained visit run included: the row's columns show the rounds only,
    // and a visit run full of 502s would still be exact (the counter grew by its 2xx).
    const loads = row.runs.map((run) => run.load);
    const socketErrors = loads.reduce((sum, load) => sum + socketErrorCount(load), 0);
    const timeouts = loads.reduce((sum, load) => sum + load.socketErrors.timeout, 0);
    const non2xx = loads.reduce((sum, load) => sum + load.non2xx, 0);
    if (socketErrors > 0) failures.push(`${where}: ${socketErrors} socket errors`);
    if (timeouts > 0) failures.push(`${where}: ${timeouts} answers timed out`);
    if (non2xx > 0) failures.push(`${where}: ${non2xx} answers were not 2xx`);
  }
  if (distinct && !distinct.pass) {
    failures.push(
      `no count shown twice: ${distinct.ok} of ${distinct.requests} visits answered with ${distinct.distinct} distinct counts ` +
        `${distinct.first}..${distinct.last}, counter +${distinct.counterDelta}, ${distinct.failed} failed`,
    );
  }
  return { pass: failures.length === 0, judged, failures, notJudged };
}

// Interleaved rounds: every system gets a warm-up, then round after round each system is
// measured once in turn (A B C A B C ...), so drift on a shared machine hits all of them alike.
// A row reports the median over rounds; the ratio is to the reference row (nginx).

import { round, runNodeLoad, runWrk, socketErrorCount, type LoadOptions, type LoadResult } from './load.js';
import { sleep, treeCpuSeconds, treeRssMiB } from './processes.js';

export interface Exactness {
  /** 'drained': the visit script, every visit answered before wrk stopped; the count must match exactly.
   *  'bounded': a plain throughput run, which wrk stops with requests in flight; Redis may have
   *  counted those (at most one per connection) without wrk seeing the answer. */
  kind: 'drained' | 'bounded';
  /** How much the Redis counter grew during the run. */
  counterDelta: number;
  /** 2xx answers to visits that the load generator saw. */
  visitsOk: number;
  /** Drained runs: visit requests sent that got no answer before the end (must be 0). */
  unanswered?: number;
  /** Bounded runs: visits counted whose answer wrk never read (in flight when it stopped). */
  inFlightAtStop?: number;
  exact: boolean;
}

export interface RunRecord {
  round: number;
  mode: 'throughput' | 'exact';
  load: LoadResult;
  exactness?: Exactness;
  /** Highest resident memory of the system's processes sampled during the run, MiB. */
  peakRssMiB?: number;
  /** CPU time the system's processes spent per answered request, microseconds (robust to a busy machine). */
  cpuUsPerRequest?: number;
}

export interface BenchSystem {
  id: string;
  label: string;
  url: string;
  /** The system counts visits: read the counter around each run. */
  counter?: () => Promise<number>;
  /** Processes whose memory to sample during runs. */
  pid?: number;
  note?: string;
}

export interface LoadSettings {
  generator: 'wrk' | 'node';
  connections: number;
  threads: number;
  durationS: number;
  drainMs: number;
  timeoutS?: number;
}

export interface Row {
  scenario: string;
  id: string;
  system: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Connect, read and write errors, summed over the rounds. */
  socketErrors: number;
  /** wrk's timeouts: answers slower than its timeout (2 s by default), summed over the rounds. */
  timeouts: number;
  non2xx: number;
  /** Median CPU time of the system's own processes per request, microseconds. */
  cpuUsPerRequest?: number;
  ratio?: number;
  ratioTo?: string;
  exact?: string;
  note?: string;
  runs: RunRecord[];
}

/**
 * One run. 'throughput' uses wrk's light script (no Lua per request); 'exact' uses the visit
 * script with a drain phase, so that the counter can be checked for equality.
 */
export async function measure(system: BenchSystem, settings: LoadSettings, durationS: number, roundNo: number, mode: 'throughput' | 'exact' = 'throughput'): Promise<RunRecord> {
  // The previous run ended with a settled counter, so one read is enough here.
  const before = system.counter ? await system.counter() : 0;
  const options: LoadOptions = { url: system.url, connections: settings.connections, threads: settings.threads, durationS };
  if (settings.timeoutS !== undefined) options.timeoutS = settings.timeoutS;
  if (mode === 'exact') options.visits = { drainMs: settings.drainMs, drainPath: '/healthz' };
  let peak = 0;
  const sampler =
    system.pid === undefined
      ? undefined
      : setInterval(() => {
          peak = Math.max(peak, treeRssMiB(system.pid as number) ?? 0);
        }, 500);
  const cpuBefore = system.pid === undefined ? 0 : treeCpuSeconds(system.pid);
  let load: LoadResult;
  try {
    load = settings.generator === 'wrk' ? await runWrk(options) : await runNodeLoad(options);
  } finally {
    if (sampler) clearInterval(sampler);
  }
  const record: RunRecord = { round: roundNo, mode, load };
  if (peak > 0) record.peakRssMiB = peak;
  if (system.pid !== undefined && load.requests > 0) {
    record.cpuUsPerRequest = Math.round(((treeCpuSeconds(system.pid) - cpuBefore) * 1e6) / load.requests);
  }
  if (system.counter) {
    // A request the balancer had queued when wrk hung up may still reach a replica a moment later.
    const delta = (await settled(system.counter)) - before;
    if (load.visits) {
      const unanswered = load.visits.sent - load.visits.ok - load.visits.failed;
      record.exactness = { kind: 'drained', counterDelta: delta, visitsOk: load.visits.ok, unanswered, exact: delta === load.visits.ok && unanswered === 0 };
    } else {
      // The node generator waits for every answer; wrk's requests minus non-2xx are the 2xx answers.
      const ok = load.requests - load.non2xx;
      const inFlight = delta - ok;
      const bound = load.generator === 'node' ? 0 : settings.connections;
      record.exactness = { kind: 'bounded', counterDelta: delta, visitsOk: ok, inFlightAtStop: inFlight, exact: inFlight >= 0 && inFlight <= bound };
    }
  }
  return record;
}

/**
 * The counter once it has stopped moving: unchanged for 1 s (10 s at most). Requests on connections
 * the server had not even accepted when wrk hung up can still arrive seconds later (SYN-ACK
 * retransmits), so a short quiet spell is not enough after a 1000-connection run.
 */
export async function settled(counter: () => Promise<number>): Promise<number> {
  let last = await counter();
  let quiet = 0;
  for (let i = 0; i < 40 && quiet < 4; i++) {
    await sleep(250);
    const now = await counter();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
  return last;
}

export function describeExactness(exactness: Exactness | undefined): string {
  if (!exactness) return '';
  const { kind, counterDelta, visitsOk } = exactness;
  if (kind === 'drained') {
    return exactness.exact
      ? `, exact (counter +${counterDelta} = ${visitsOk} 2xx visits)`
      : `, NOT exact (counter +${counterDelta}, 2xx visits ${visitsOk}, unanswered ${exactness.unanswered})`;
  }
  return `, counter +${counterDelta} for ${visitsOk} 2xx (${exactness.inFlightAtStop} in flight at stop${exactness.exact ? '' : ': OUT OF BOUND'})`;
}

export interface RoundsOptions {
  rounds: number;
  warmupS: number;
  settings: LoadSettings;
  log: (line: string) => void;
}

export async function interleave(scenario: string, systems: readonly BenchSystem[], { rounds, warmupS, settings, log }: RoundsOptions): Promise<Row[]> {
  const runs = new Map<string, RunRecord[]>(systems.map((system) => [system.id, []]));
  const exactRuns = new Map<string, RunRecord>();
  // The warm-up of a system that counts is its exactness run: the visit script, drained, checked for equality.
  for (const system of systems) {
    if (warmupS <= 0 && !system.counter) continue;
    const mode = system.counter ? 'exact' : 'throughput';
    const record = await measure(system, settings, Math.max(warmupS, 1), 0, mode);
    if (mode === 'exact') exactRuns.set(system.id, record);
    log(`  warm-up ${system.label} (${Math.max(warmupS, 1)} s${mode === 'exact' ? ', visit script' : ''}): ${record.load.rps} req/s${describeExactness(record.exactness)}`);
    await sleep(300);
  }
  for (let r = 1; r <= rounds; r++) {
    for (const system of systems) {
      const record = await measure(system, settings, settings.durationS, r);
      runs.get(system.id)?.push(record);
      const { load } = record;
      log(`  round ${r}/${rounds} ${system.label}: ${load.rps} req/s, p99 ${load.p99Ms} ms, errors ${socketErrorCount(load)}, timeouts ${load.socketErrors.timeout}, non-2xx ${load.non2xx}${describeExactness(record.exactness)}`);
      await sleep(300);
    }
  }
  return systems.map((system) => {
    const exactRun = exactRuns.get(system.id);
    return summarize(scenario, system, runs.get(system.id) ?? [], exactRun ? [exactRun] : []);
  });
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A row from its measured runs; `exactRuns` (drained visit runs) decide the exact column together with the bounded checks. */
export function summarize(scenario: string, system: BenchSystem, runs: RunRecord[], exactRuns: RunRecord[] = []): Row {
  const loads = runs.map((run) => run.load);
  const row: Row = {
    scenario,
    id: system.id,
    system: system.label,
    rps: Math.round(median(loads.map((l) => l.rps))),
    p50Ms: round(median(loads.map((l) => l.p50Ms)), 2),
    p99Ms: round(median(loads.map((l) => l.p99Ms)), 2),
    maxMs: round(Math.max(0, ...loads.map((l) => l.maxMs)), 2),
    socketErrors: loads.reduce((sum, l) => sum + socketErrorCount(l), 0),
    timeouts: loads.reduce((sum, l) => sum + l.socketErrors.timeout, 0),
    non2xx: loads.reduce((sum, l) => sum + l.non2xx, 0),
    runs: [...exactRuns, ...runs],
  };
  if (system.note) row.note = system.note;
  const cpu = runs.map((run) => run.cpuUsPerRequest).filter((value): value is number => value !== undefined);
  if (cpu.length > 0) row.cpuUsPerRequest = Math.round(median(cpu));
  const drained = row.runs.filter((run) => run.exactness?.kind === 'drained');
  const bounded = row.runs.filter((run) => run.exactness?.kind === 'bounded');
  if (drained.length + bounded.length > 0) {
    const badDrained = drained.filter((run) => !run.exactness?.exact).length;
    const badBounded = bounded.filter((run) => !run.exactness?.exact).length;
    const parts: string[] = [];
    if (drained.length > 0) parts.push(badDrained === 0 ? `yes ${drained.length}/${drained.length}` : `NO ${badDrained}/${drained.length} off`);
    if (badBounded > 0) parts.push(`${badBounded} run(s) out of bound`);
    row.exact = parts.join(', ') || `bounded ${bounded.length}/${bounded.length}`;
  }
  return row;
}

/** Adds `ratio` to every row of a scenario: its req/s over the reference row's. */
export function addRatios(rows: Row[], referenceId: string): void {
  const reference = rows.find((row) => row.id === referenceId);
  if (!reference || reference.rps === 0) return;
  for (const row of rows) {
    row.ratio = round(row.rps / reference.rps, 2);
    row.ratioTo = reference.system;
  }
}

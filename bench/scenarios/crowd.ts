// The crowd: a compose user's `wrk -t4 -c1000` through a fresh balancer to the real replicas, then a
// sustained run at the same load in parts, reading the balancer's resident memory at start,
// during and after each part; every part checks the count exactly. Before the load, the "no
// count shown twice" check, which reads every body. Then the same load through the balancer with workers,
// through a BENCH_COMPARE_ROOT balancer if given, and through nginx, as the reference.

import { join } from 'node:path';
import type { BenchContext } from '../lib/context.js';
import { checkDistinctCounts, type DistinctReport } from '../lib/distinct.js';
import { sleep, treeRssMiB } from '../lib/processes.js';
import { addRatios, describeExactness, measure, summarize, type BenchSystem, type LoadSettings, type Row, type RunRecord } from '../lib/rounds.js';
import { freePort, startBalancer, waitForwarding, type Service } from '../lib/topology.js';
import { startNginx } from '../references/nginx.js';
import type { Replicas } from './end-to-end.js';

export interface MemoryReport {
  /** Resident memory of the balancer (all its processes), MiB. */
  startMiB: number | undefined;
  peakDuringCrowdMiB: number | undefined;
  afterCrowdMiB: number | undefined;
  /** After each part of the sustained run. */
  afterPartsMiB: Array<number | undefined>;
  peakMiB: number | undefined;
}

export interface CrowdReport {
  rows: Row[];
  memory: MemoryReport;
  distinct: DistinctReport;
}

export async function crowdLoad(ctx: BenchContext, { replicas, counter }: Replicas): Promise<CrowdReport> {
  const { options, log } = ctx;
  const label = 'our balancer (1 process)';
  let balancer: Service | undefined;
  try {
    balancer = await startBalancer({
      runtime: ctx.runtime,
      backends: replicas.map((replica) => replica.address),
      logLevel: 'warn',
      name: 'balancer-crowd',
    });
    const pid = balancer.process.pid;
    await sleep(500);
    const memory: MemoryReport = { startMiB: treeRssMiB(pid), peakDuringCrowdMiB: undefined, afterCrowdMiB: undefined, afterPartsMiB: [], peakMiB: undefined };
    const system: BenchSystem = { id: 'crowd', label, url: `http://${balancer.address}/`, counter, pid };
    const settings: LoadSettings = { ...ctx.settings, connections: options.crowdConnections, threads: options.crowdThreads, drainMs: 3000 };
    // wrk's own 2 s timeout, as a compose user runs it (a slower answer counts as a timeout error), and a
    // 3 s drain, so that a visit answered that late still counts in the exactness check.
    delete settings.timeoutS;

    log(`crowd: ${options.distinctRequests} visits, ${options.distinctConcurrency} at a time, reading every count (first, while no load has run: a 1000-connection run leaves requests behind that arrive seconds later)`);
    const distinct = await checkDistinctCounts(`http://${balancer.address}/`, counter, options.distinctRequests, options.distinctConcurrency);
    log(`  ${distinct.pass ? 'PASS' : 'FAIL'}: ${distinct.ok} answers, ${distinct.distinct} distinct counts ${distinct.first}..${distinct.last}, counter +${distinct.counterDelta}, failed ${distinct.failed}`);

    log(`crowd: wrk -t${options.crowdThreads} -c${options.crowdConnections} -d${options.crowdS}s through ${label} (RSS at start ${memory.startMiB} MiB)`);
    const crowdRun = await measure(system, settings, options.crowdS, 1, 'exact');
    memory.peakDuringCrowdMiB = crowdRun.peakRssMiB;
    await sleep(500);
    memory.afterCrowdMiB = treeRssMiB(pid);
    log(`  ${crowdRun.load.rps} req/s, socket errors ${JSON.stringify(crowdRun.load.socketErrors)}, non-2xx ${crowdRun.load.non2xx}${describeExactness(crowdRun.exactness)}, RSS peak ${memory.peakDuringCrowdMiB} MiB, after ${memory.afterCrowdMiB} MiB`);

    const parts: RunRecord[] = [];
    if (options.sustainS > 0) {
      const partS = options.sustainS / 3;
      for (let part = 1; part <= 3; part++) {
        const run = await measure(system, settings, partS, part, 'exact');
        parts.push(run);
        await sleep(500);
        memory.afterPartsMiB.push(treeRssMiB(pid));
        log(`  sustained part ${part}/3 (${partS} s): ${run.load.rps} req/s, errors ${JSON.stringify(run.load.socketErrors)}, non-2xx ${run.load.non2xx}${describeExactness(run.exactness)}, RSS peak ${run.peakRssMiB} MiB, after ${memory.afterPartsMiB.at(-1)} MiB`);
      }
    }
    // Over every figure taken: the samples during the runs and the readings between them.
    const readings = [memory.startMiB, memory.afterCrowdMiB, ...memory.afterPartsMiB, ...[crowdRun, ...parts].map((run) => run.peakRssMiB)];
    memory.peakMiB = Math.max(0, ...readings.map((mib) => mib ?? 0)) || undefined;

    const scenario = `crowd ${options.crowdConnections} conns`;
    const rows = [summarize(scenario, { ...system, label: `${label}, ${options.crowdS} s` }, [crowdRun])];
    if (parts.length > 0) rows.push(summarize(scenario, { ...system, id: 'sustained', label: `${label}, sustained ${options.sustainS} s` }, parts));

    await balancer.process.stop();
    // The same load through other front ends to the same replicas, one run each: is what we see
    // the machine's (nginx) or ours, and what do workers (the primary accepts) or a change give?
    const addresses = replicas.map((replica) => replica.address);
    const others: Array<{ id: string; label: string; start: () => Promise<Service> }> = [];
    if (options.workers > 1) {
      others.push({
        id: 'ours-workers',
        label: `our balancer (WORKERS=${options.workers}), ${options.crowdS} s`,
        start: () => startBalancer({ runtime: ctx.runtime, backends: addresses, logLevel: 'warn', workers: options.workers, name: 'balancer-crowd-workers' }),
      });
    }
    if (options.compareRoot && ctx.compareRuntime) {
      const compareRoot = options.compareRoot;
      const compareRuntime = ctx.compareRuntime;
      others.push({
        id: 'ours-compare',
        label: `our balancer, compare (1 process), ${options.crowdS} s`,
        start: () => startBalancer({ runtime: compareRuntime, backends: addresses, logLevel: 'warn', name: 'balancer-crowd-compare', root: compareRoot }),
      });
    }
    if (ctx.tools.nginx) {
      others.push({
        id: 'nginx',
        label: `nginx ${ctx.tools.nginx} (1 worker), ${options.crowdS} s`,
        start: async () => {
          const port = await freePort();
          return waitForwarding(startNginx(join(ctx.tmp, 'nginx-crowd'), port, addresses), port);
        },
      });
    }
    for (const other of others) {
      const service = await other.start();
      try {
        const reference: BenchSystem = { id: other.id, label: other.label, url: `http://${service.address}/`, counter, pid: service.process.pid };
        const run = await measure(reference, settings, options.crowdS, 1, 'exact');
        log(`  ${other.label}: ${run.load.rps} req/s, socket errors ${JSON.stringify(run.load.socketErrors)}, non-2xx ${run.load.non2xx}${describeExactness(run.exactness)}, RSS peak ${run.peakRssMiB} MiB`);
        rows.push(summarize(scenario, reference, [run]));
      } finally {
        await service.process.stop();
      }
    }
    addRatios(rows, 'nginx');
    return { rows, memory, distinct };
  } finally {
    await balancer?.process.stop();
  }
}

// `npm run bench`: starts the topology as child processes (Redis, web replicas, our balancer,
// nginx and HAProxy when installed, an http-proxy baseline and a minimal undici proxy), drives it with wrk (or a
// small Node generator when wrk is missing), and prints one table: req/s, latency, errors,
// non-2xx, ratio to nginx and the exactness check. Writes the same as JSON under
// bench/results/. Every process it starts is stopped at the end, on Ctrl-C and on a crash.
// Options: see bench/lib/options.ts (BENCH_DURATION_S, BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_QUICK=1, ...).

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, Tools } from './lib/context.js';
import type { DistinctReport } from './lib/distinct.js';
import { haveWrk } from './lib/load.js';
import { readBenchOptions } from './lib/options.js';
import { killAllNow, stopAll } from './lib/processes.js';
import type { Row } from './lib/rounds.js';
import { formatMarkdown, formatTable } from './lib/table.js';
import { judge } from './lib/verdict.js';
import { ROOT, distIsCurrent, startRedisServer, counterValue } from './lib/topology.js';
import { haproxyVersion } from './references/haproxy.js';
import { nginxVersion } from './references/nginx.js';
import { balancerBound } from './scenarios/balancer-bound.js';
import { endToEnd, startReplicas } from './scenarios/end-to-end.js';
import { crowdLoad, type MemoryReport } from './scenarios/crowd.js';

const log = (line: string): void => {
  process.stdout.write(line + '\n');
};

function detectTools(): Tools {
  const redis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  const wrk = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  return {
    wrk: haveWrk() ? (/wrk (\S+)/.exec(wrk.stdout + wrk.stderr)?.[1] ?? 'unknown') : undefined,
    nginx: nginxVersion(),
    haproxy: haproxyVersion(),
    redis: redis.error ? undefined : (/v=(\S+)/.exec(redis.stdout)?.[1] ?? 'unknown'),
  };
}

let cleaningUp = false;
async function cleanUp(code: number): Promise<never> {
  if (!cleaningUp) {
    cleaningUp = true;
    const timer = setTimeout(() => {
      killAllNow();
      process.exit(code);
    }, 8_000);
    await stopAll().catch(() => killAllNow());
    clearTimeout(timer);
  }
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`\n${signal}: stopping every process the benchmark started`);
    void cleanUp(130);
  });
}
process.on('exit', killAllNow);

/** Runs the benchmark; resolves false when one of our correctness checks failed. */
async function main(): Promise<boolean> {
  let options;
  try {
    options = readBenchOptions(process.env);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const tools = detectTools();
  const skipped: string[] = [];
  if (!tools.wrk) skipped.push('skipped: wrk not installed (load from the built-in Node generator instead, which competes for CPU: figures read lower)');
  if (!tools.nginx) skipped.push('skipped: nginx not installed (no nginx rows, no ratios)');
  if (!tools.haproxy) skipped.push('skipped: haproxy not installed');
  if (!tools.redis) skipped.push('skipped: redis-server not installed (no end-to-end or crowd scenario)');
  if (options.workers === 0) {
    skipped.push('skipped: balancer WORKERS rows (BENCH_WORKERS=0)');
  }
  if (options.runtime === 'dist' && !distIsCurrent()) {
    process.stderr.write('bench: BENCH_RUNTIME=dist but packages/*/dist is missing or older than src: run `npm run build` first\n');
    process.exit(2);
  }
  const runtime = options.runtime === 'auto' ? (distIsCurrent() ? 'dist' : 'source') : options.runtime;
  if (runtime === 'source') {
    skipped.push('note: services run from src/ via tsx (no current dist/): tsx adds about 30 MiB of resident memory per Node process and nothing to steady-state speed; `npm run build` first to measure what the Docker images run');
  }
  const generator = options.generator === 'auto' ? (tools.wrk ? 'wrk' : 'node') : options.generator;
  if (generator === 'wrk' && !tools.wrk) {
    process.stderr.write('bench: BENCH_GENERATOR=wrk but wrk is not installed\n');
    process.exit(2);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'visit-counter-bench-'));
  const ctx: BenchContext = {
    options,
    tools,
    tmp,
    runtime,
    compareRuntime: options.compareRoot === undefined ? undefined : options.runtime === 'auto' ? (distIsCurrent(options.compareRoot) ? 'dist' : 'source') : options.runtime,
    settings: { generator, connections: options.connections, threads: options.threads, durationS: options.durationS, drainMs: 500 },
    log,
    skipped,
  };
  const cores = cpus().length;
  log(
    `visit-counter benchmark: ${cores} cores, node ${process.version}, load from ${generator === 'wrk' ? `wrk ${tools.wrk} (-t${options.threads})` : 'the built-in Node generator (wrk not installed)'}, ` +
      `${options.connections} connections, ${options.rounds} rounds x ${options.durationS} s after ${options.warmupS} s warm-up, services from ${runtime === 'dist' ? 'dist/' : 'src/ via tsx'}${options.quick ? ' (BENCH_QUICK)' : ''}`,
  );
  if (options.compareRoot) log(`comparing with the balancer of ${options.compareRoot} (rows marked "compare")`);
  for (const line of skipped) log(line);
  // Other work on the machine skews every row alike (the rounds interleave), but say how busy it was.
  const loadBefore = loadavg().map((value) => Math.round(value * 100) / 100);
  log(`load average before: ${loadBefore.join(' ')}`);

  const started = new Date();
  const rows: Row[] = [];
  let memory: MemoryReport | undefined;
  let distinct: DistinctReport | undefined;
  try {
    if (options.scenarios.includes('balancer-bound')) rows.push(...(await balancerBound(ctx)));
    const wantsRedis = options.scenarios.includes('end-to-end') || options.scenarios.includes('crowd');
    if (wantsRedis && tools.redis) {
      const redis = await startRedisServer(tmp);
      try {
        log(`starting Redis on port ${redis.port} and two web replicas`);
        const replicas = await startReplicas(ctx, redis, 2, 'warn', 'web');
        const topology = { redis, replicas, counter: () => counterValue(redis) };
        try {
          if (options.scenarios.includes('end-to-end')) rows.push(...(await endToEnd(ctx, topology)));
          if (options.scenarios.includes('crowd')) {
            const crowd = await crowdLoad(ctx, topology);
            rows.push(...crowd.rows);
            memory = crowd.memory;
            distinct = crowd.distinct;
          }
        } finally {
          await Promise.all(replicas.map((replica) => replica.process.stop()));
        }
      } finally {
        await redis.process.stop();
      }
    }
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }

  log('');
  log(formatTable(rows));
  log('');
  log('req/s: median over rounds (visit runs: visit phase only); p50/p99: median over rounds; max: worst run; ratio: req/s over nginx\'s in the same scenario (web replica and hello-world rows: over the hello-world\'s);');
  log('sock err: connect, read and write errors; timeouts: answers slower than wrk\'s timeout (2 s), which wrk counts as socket errors.');
  log('CPU µs/req: CPU time of the proxy\'s own processes (or the server\'s, in direct rows) per answered request, median over rounds: steadier than req/s on a busy machine; exact: drained visit run(s) where the counter grew by exactly the 2xx visits.');
  if (memory) {
    log(
      `memory (balancer RSS, MiB): start ${memory.startMiB}, peak at ${options.crowdConnections} connections ${memory.peakDuringCrowdMiB}, after the crowd ${memory.afterCrowdMiB}, ` +
        (memory.afterPartsMiB.length > 0 ? `after each sustained part ${memory.afterPartsMiB.join(' / ')}, ` : '') +
        `peak overall ${memory.peakMiB}`,
    );
  }
  if (distinct) {
    log(
      `no count shown twice: ${distinct.pass ? 'PASS' : 'FAIL'} (${distinct.ok} of ${distinct.requests} visits, ${distinct.concurrency} at a time: ` +
        `${distinct.distinct} distinct counts ${distinct.first}..${distinct.last}, counter +${distinct.counterDelta}, ${distinct.failed} failed)`,
    );
  }
  const verdict = judge(rows, distinct);
  log(`verdict on our ${verdict.judged} rows (clean, exact) and the no-count-twice check: ${verdict.pass ? 'PASS' : 'FAIL'}`);
  for (const line of verdict.failures) log(`  FAIL: ${line}`);
  for (const line of verdict.notJudged) log(`  (not judged) ${line}`);
  for (const line of skipped) log(line);
  const loadAfter = loadavg().map((value) => Math.round(value * 100) / 100);
  log(`load average after: ${loadAfter.join(' ')} (the benchmark itself keeps about 2 busy)`);

  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        machine: { cores, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadBefore, loadAfter },
        tools,
        generator,
        options,
        runtime,
        skipped,
        rows,
        memory,
        distinct,
        verdict,
        markdown: formatMarkdown(rows),
      },
      null,
      2,
    ) + '\n',
  );
  log(`results: ${file}`);
  return verdict.pass;
}

main().then(
  (passed) => cleanUp(passed ? 0 : 1),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    void cleanUp(1);
  },
);

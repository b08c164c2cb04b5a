// End-to-end: the real web replicas and Redis, behind our balancer, behind nginx and behind
// HAProxy (the same two replicas for all three), after every run checking that the counter
// grew by exactly the number of 2xx visits (the warm-up is a drained visit run checked for
// equality; the measured rounds are checked against wrk's in-flight bound). Also one row with
// the logs as compose.yaml sets them (LOG_LEVEL=info: an access line per request on each hop;
// LOG_FORMAT=pretty; written to /dev/null), and the web replica alone against a Node
// hello-world server: what counting a visit costs per process.

import type { BenchContext } from '../lib/context.js';
import { startProxies } from '../lib/proxies.js';
import { addRatios, interleave, type Row } from '../lib/rounds.js';
import { startBalancer, startReference, startWeb, type RedisService, type Service } from '../lib/topology.js';

const SCENARIO = 'end-to-end';

export interface Replicas {
  redis: RedisService;
  replicas: Service[];
  counter: () => Promise<number>;
}

export async function startReplicas(ctx: BenchContext, redis: RedisService, count: number, logLevel: string, prefix: string, logFormat?: string): Promise<Service[]> {
  const replicas: Service[] = [];
  for (let i = 1; i <= count; i++) {
    replicas.push(await startWeb({ runtime: ctx.runtime, redisUrl: redis.url, logLevel, logFormat, name: `${prefix}-${i}` }));
  }
  return replicas;
}

export async function endToEnd(ctx: BenchContext, { redis, replicas, counter }: Replicas): Promise<Row[]> {
  const { options, tools, log } = ctx;
  const started: Service[] = [];
  try {
    log(`${SCENARIO}: starting the balancers in front of ${replicas.length} web replicas`);
    const addresses = replicas.map((replica) => replica.address);
    const systems = await startProxies(ctx, addresses, { tag: 'e2e', balancer: 'balancer-e2e', labelSuffix: ' + replicas', counter }, started);

    // As compose runs it: every process at LOG_LEVEL=info (one access line per request on each
    // hop) and LOG_FORMAT=pretty.
    const logged = await startReplicas(ctx, redis, replicas.length, 'info', 'web-logged', 'pretty');
    started.push(...logged);
    const loggedBalancer = await startBalancer({ runtime: ctx.runtime, backends: logged.map((r) => r.address), logLevel: 'info', logFormat: 'pretty', name: 'balancer-logged' });
    started.push(loggedBalancer);
    systems.push({
      id: 'ours-logged',
      label: 'our balancer + replicas, logs as compose has them',
      url: `http://${loggedBalancer.address}/`,
      counter,
      pid: loggedBalancer.process.pid,
      note: 'LOG_LEVEL=info and LOG_FORMAT=pretty (compose.yaml) on the balancer and both replicas, stdout to /dev/null',
    });

    const first = replicas[0] as Service;
    systems.push({ id: 'web-alone', label: 'web replica alone (direct, Redis)', url: `http://${first.address}/`, counter, pid: first.process.pid });
    const hello = await startReference('hello-world', 'hello.ts');
    started.push(hello);
    systems.push({ id: 'hello', label: 'node hello-world (direct)', url: `http://${hello.address}/`, pid: hello.process.pid });

    const rows = await interleave(SCENARIO, systems, { rounds: options.rounds, warmupS: options.warmupS, settings: ctx.settings, log });
    addRatios(rows, 'nginx');
    // The replica's own figure is read against the hello-world, not against nginx.
    const web = rows.find((row) => row.id === 'web-alone');
    const helloRow = rows.find((row) => row.id === 'hello');
    for (const row of [web, helloRow]) {
      if (!row || !helloRow || helloRow.rps === 0) continue;
      row.ratio = Math.round((row.rps / helloRow.rps) * 100) / 100;
      row.ratioTo = helloRow.system;
    }
    return rows;
  } finally {
    await Promise.all(started.map((service) => service.process.stop()));
  }
}

// Balancer-bound: the backends answer a fixed body and cost nearly nothing, so the figure is
// the balancer's own cost. Our balancer, nginx, HAProxy and the http-proxy baseline forward to
// the same two Node hello-world backends; a hello-world hit directly shows what one Node
// process can answer. Ratios are to nginx.

import { join } from 'node:path';
import type { BenchContext } from '../lib/context.js';
import { freePort } from '../lib/topology.js';
import { startBalancer, startReference, waitForwarding, type Service } from '../lib/topology.js';
import { addRatios, interleave, type BenchSystem, type Row } from '../lib/rounds.js';
import { startHaproxy } from '../references/haproxy.js';
import { startNginx } from '../references/nginx.js';

const SCENARIO = 'balancer-bound';

export async function balancerBound(ctx: BenchContext): Promise<Row[]> {
  const { options, tools, log } = ctx;
  const started: Service[] = [];
  try {
    log(`${SCENARIO}: starting two hello-world backends and the balancers`);
    const backends = [await startReference('hello backend 1', 'hello.ts'), await startReference('hello backend 2', 'hello.ts')];
    started.push(...backends);
    const addresses = backends.map((backend) => backend.address);
    const systems: BenchSystem[] = [];

    if (tools.nginx) {
      const port = await freePort();
      const nginx = await waitForwarding(startNginx(join(ctx.tmp, 'nginx-bound'), port, addresses), port);
      started.push(nginx);
      systems.push({ id: 'nginx', label: `nginx ${tools.nginx} (1 worker)`, url: `http://${nginx.address}/`, pid: nginx.process.pid });
    }
    if (tools.haproxy) {
      const port = await freePort();
      const haproxy = await waitForwarding(startHaproxy(join(ctx.tmp, 'haproxy-bound'), port, addresses), port);
      started.push(haproxy);
      systems.push({ id: 'haproxy', label: `HAProxy ${tools.haproxy} (1 thread)`, url: `http://${haproxy.address}/`, pid: haproxy.process.pid });
    }
    const ours = await startBalancer({ runtime: ctx.runtime, backends: addresses, logLevel: 'warn', name: 'balancer' });
    started.push(ours);
    systems.push({ id: 'ours', label: 'our balancer (1 process)', url: `http://${ours.address}/`, pid: ours.process.pid });
    if (options.workers > 1) {
      const many = await startBalancer({ runtime: ctx.runtime, backends: addresses, logLevel: 'warn', workers: options.workers, name: `balancer x${options.workers}` });
      started.push(many);
      systems.push({ id: 'ours-workers', label: `our balancer (WORKERS=${options.workers})`, url: `http://${many.address}/`, pid: many.process.pid });
    }
    if (options.compareRoot && ctx.compareRuntime) {
      const other = await startBalancer({ runtime: ctx.compareRuntime, backends: addresses, logLevel: 'warn', name: 'balancer (compare)', root: options.compareRoot });
      started.push(other);
      systems.push({ id: 'ours-compare', label: 'our balancer, compare (1 process)', url: `http://${other.address}/`, pid: other.process.pid, note: `BENCH_COMPARE_ROOT=${options.compareRoot}` });
    }
    const httpProxy = await startReference('http-proxy baseline', 'http-proxy.ts', [addresses.join(',')]);
    started.push(httpProxy);
    systems.push({ id: 'http-proxy', label: 'http-proxy 1.18.1 (keep-alive agent)', url: `http://${httpProxy.address}/`, pid: httpProxy.process.pid });
    systems.push({ id: 'hello', label: 'node hello-world (direct, no proxy)', url: `http://${backends[0]?.address}/`, pid: backends[0]?.process.pid as number });

    const rows = await interleave(SCENARIO, systems, { rounds: options.rounds, warmupS: options.warmupS, settings: ctx.settings, log });
    addRatios(rows, 'nginx');
    return rows;
  } finally {
    await Promise.all(started.map((service) => service.process.stop()));
  }
}

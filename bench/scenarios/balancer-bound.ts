// Balancer-bound: the backends answer a fixed body and cost nearly nothing, so the figure is
// the balancer's own cost. Our balancer, nginx, HAProxy and the http-proxy baseline forward to
// the same two Node hello-world backends, with the plainest undici proxy next to them (what
// the design's choice of undici gives without our fast path); a hello-world hit directly shows what one Node
// process can answer. Ratios are to nginx.

import type { BenchContext } from '../lib/context.js';
import { startProxies } from '../lib/proxies.js';
import { addRatios, interleave, type Row } from '../lib/rounds.js';
import { startReference, type Service } from '../lib/topology.js';

const SCENARIO = 'balancer-bound';

export async function balancerBound(ctx: BenchContext): Promise<Row[]> {
  const { options, log } = ctx;
  const started: Service[] = [];
  try {
    log(`${SCENARIO}: starting two hello-world backends and the balancers`);
    const backends = [await startReference('hello backend 1', 'hello.ts'), await startReference('hello backend 2', 'hello.ts')];
    started.push(...backends);
    const addresses = backends.map((backend) => backend.address);
    const systems = await startProxies(ctx, addresses, { tag: 'bound', balancer: 'balancer', labelSuffix: '' }, started);
    const httpProxy = await startReference('http-proxy baseline', 'http-proxy.ts', [addresses.join(',')]);
    started.push(httpProxy);
    systems.push({ id: 'http-proxy', label: 'http-proxy 1.18.1 (keep-alive agent)', url: `http://${httpProxy.address}/`, pid: httpProxy.process.pid });
    const undiciProxy = await startReference('minimal undici proxy', 'undici-proxy.ts', [addresses.join(',')]);
    started.push(undiciProxy);
    systems.push({ id: 'undici-proxy', label: 'minimal undici proxy (node:http + Pool.dispatch)', url: `http://${undiciProxy.address}/`, pid: undiciProxy.process.pid });
    systems.push({ id: 'hello', label: 'node hello-world (direct, no proxy)', url: `http://${backends[0]?.address}/`, pid: backends[0]?.process.pid as number });

    const rows = await interleave(SCENARIO, systems, { rounds: options.rounds, warmupS: options.warmupS, settings: ctx.settings, log });
    addRatios(rows, 'nginx');
    return rows;
  } finally {
    await Promise.all(started.map((service) => service.process.stop()));
  }
}

// The proxies every comparison scenario puts in front of the same backends: nginx and HAProxy
// (when installed), our balancer, our balancer with WORKERS=n, and the compare checkout's.
// Their ids and labels are what the result files are compared by: keep them stable.

import { join } from 'node:path';
import { startHaproxy } from '../references/haproxy.js';
import { startNginx } from '../references/nginx.js';
import type { BenchContext } from './context.js';
import type { BenchSystem } from './rounds.js';
import { freePort, startBalancer, waitForwarding, type Service } from './topology.js';

export interface ProxiesOptions {
  /** Names the processes and working directories: `nginx-${tag}`, `${balancer}`. */
  tag: string;
  balancer: string;
  /** Added to every label (` + replicas`). */
  labelSuffix: string;
  /** The systems count visits: read this counter around each run. */
  counter?: () => Promise<number>;
}

/** Starts them one after the other; `started` is every process, for the caller to stop. */
export async function startProxies(ctx: BenchContext, addresses: string[], { tag, balancer, labelSuffix, counter }: ProxiesOptions, started: Service[]): Promise<BenchSystem[]> {
  const { options, tools } = ctx;
  const counting = counter ? { counter } : {};
  const systems: BenchSystem[] = [];
  const add = (service: Service, id: string, label: string, note?: string): void => {
    started.push(service);
    systems.push({ id, label: label + labelSuffix, url: `http://${service.address}/`, ...counting, pid: service.process.pid as number, ...(note ? { note } : {}) });
  };
  if (tools.nginx) {
    const port = await freePort();
    add(await waitForwarding(startNginx(join(ctx.tmp, `nginx-${tag}`), port, addresses), port), 'nginx', `nginx ${tools.nginx} (1 worker)`);
  }
  if (tools.haproxy) {
    const port = await freePort();
    add(await waitForwarding(startHaproxy(join(ctx.tmp, `haproxy-${tag}`), port, addresses), port), 'haproxy', `HAProxy ${tools.haproxy} (1 thread)`);
  }
  add(await startBalancer({ runtime: ctx.runtime, backends: addresses, logLevel: 'warn', name: balancer }), 'ours', 'our balancer (1 process)');
  if (options.workers > 1) {
    const many = await startBalancer({ runtime: ctx.runtime, backends: addresses, logLevel: 'warn', workers: options.workers, name: `${balancer} x${options.workers}` });
    add(many, 'ours-workers', `our balancer (WORKERS=${options.workers})`);
  }
  if (options.compareRoot && ctx.compareRuntime) {
    const other = await startBalancer({ runtime: ctx.compareRuntime, backends: addresses, logLevel: 'warn', name: `${balancer} (compare)`, root: options.compareRoot });
    add(other, 'ours-compare', 'our balancer, compare (1 process)', `BENCH_COMPARE_ROOT=${options.compareRoot}`);
  }
  return systems;
}

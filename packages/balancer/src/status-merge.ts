// With several worker processes, each has its own pool, checks and figures. The status page
// shows the whole picture: figures added up, each backend once per route, its state as most
// workers see it, and the routes and totals counted from those states. The balancer's own
// process is the primary: its pid and uptime are the page's; each worker's are in `perWorker`.

import type { PrimaryView, Status } from './cluster-messages.js';
import { stateTotals } from './stats.js';

type BackendView = Record<string, unknown> & { id: string };

function sumRecords(records: Array<Record<string, number> | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const record of records) {
    for (const [key, value] of Object.entries(record ?? {})) out[key] = (out[key] ?? 0) + value;
  }
  return out;
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? 'unknown';
}

/** One worker's figures that describe its process, not the balancer: kept in `perWorker` only. */
const PER_PROCESS = ['worker', 'pid', 'uptimeSeconds', 'startedAt'] as const;

/** `primary`: the primary process's own part, when it answered. */
export function mergeStatuses(statuses: readonly Status[], primary?: PrimaryView): Status {
  const common: Status = { ...statuses[0] };
  for (const key of PER_PROCESS) delete common[key];
  // A backend listed in two routes (BACKENDS and a HOST_ROUTES entry) has a pool in each.
  const byRoute = new Map<string, BackendView[]>();
  for (const status of statuses) {
    for (const backend of (status['backends'] as BackendView[] | undefined) ?? []) {
      const key = `${String(backend['route'])} ${backend.id}`;
      const list = byRoute.get(key) ?? [];
      list.push({ ...backend, worker: status['worker'] });
      byRoute.set(key, list);
    }
  }
  const backends = [...byRoute.values()].map((views) => {
    // The first worker's view for what is not added up (since, the last check), under no worker's name.
    const { worker: _first, ...base } = views[0] as BackendView;
    const sum = (key: string): number => views.reduce((total, view) => total + Number(view[key] ?? 0), 0);
    return {
      ...base,
      route: base['route'],
      state: mostCommon(views.map((view) => String(view['state']))),
      health: mostCommon(views.map((view) => String(view['health']))),
      requests: sum('requests'),
      failures: sum('failures'),
      inFlight: sum('inFlight'),
      perWorker: views.map((view) => ({ worker: view['worker'], state: view['state'], requests: view['requests'] })),
    };
  });
  const totals = statuses.map((status) => (status['totals'] ?? {}) as Record<string, unknown>);
  const add = (key: string): number => totals.reduce((total, t) => total + Number(t[key] ?? 0), 0);
  const memories = statuses.map((status) => (status['memory'] ?? {}) as Record<string, number>);
  const addMemory = (key: string): number => memories.reduce((total, m) => total + Number(m[key] ?? 0), 0);
  const routeNames = new Set(statuses.flatMap((status) => ((status['routes'] as Array<{ route: string }> | undefined) ?? []).map((r) => r.route)));
  return {
    ...(primary ? { pid: primary.pid, startedAt: primary.startedAt, uptimeSeconds: primary.uptimeSeconds } : {}),
    ...common,
    workers: statuses.length,
    perWorker: statuses.map((status) => ({ worker: status['worker'], pid: status['pid'], uptimeSeconds: status['uptimeSeconds'] })),
    // Every process's resident memory added up, the primary's too (shown on its own as well;
    // pages the processes share, such as Node's own binary, count once per process), the
    // workers' heaps added up, and the heap limit each worker has.
    memory: {
      rssBytes: addMemory('rssBytes') + (primary?.rssBytes ?? 0),
      ...(primary === undefined ? {} : { primaryRssBytes: primary.rssBytes }),
      heapUsedBytes: addMemory('heapUsedBytes'),
      heapLimitBytes: memories[0]?.['heapLimitBytes'],
    },
    totals: {
      ...stateTotals(backends.map((backend) => backend.state)),
      requests: add('requests'),
      fastPath: add('fastPath'),
      retries: add('retries'),
      inFlight: add('inFlight'),
      responses: sumRecords(totals.map((t) => t['responses'] as Record<string, number>)),
      errors: sumRecords(totals.map((t) => t['errors'] as Record<string, number>)),
    },
    backends,
    routes: [...routeNames].map((route) => {
      const inRoute = backends.filter((backend) => backend['route'] === route);
      return { route, backends: inRoute.length, up: inRoute.filter((backend) => backend.state === 'up').length };
    }),
  };
}

// Reading the merged /_lb/status of a WORKERS > 1 balancer: how many requests each worker has
// forwarded, from the per-worker figures of every backend. Used by the process test and by the
// Docker e2e.

export interface MergedBackends {
  backends: ReadonlyArray<{ perWorker?: ReadonlyArray<{ worker: number; requests: number }> }>;
}

/** Requests each worker has forwarded, by worker id. */
export function requestsPerWorker(status: MergedBackends): Map<number, number> {
  const out = new Map<number, number>();
  for (const backend of status.backends) {
    for (const view of backend.perWorker ?? []) out.set(view.worker, (out.get(view.worker) ?? 0) + view.requests);
  }
  return out;
}

// With WORKERS > 1, /_lb/status merges every worker's view: figures add up, each backend
// shows once with the state most workers see.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeStatuses } from '../src/status-merge.js';

const view = (worker: number, states: Record<string, string>, requests: number) => ({
  worker,
  uptimeSeconds: 5,
  memory: { rssBytes: worker * 100, heapUsedBytes: worker * 10, heapLimitBytes: 1000 },
  totals: { requests, fastPath: requests - 1, retries: 1, inFlight: 0, responses: { '2xx': requests }, errors: { LB_UPSTREAM_FAILED: 1 } },
  backends: Object.entries(states).map(([id, state]) => ({ id, state, health: state, requests: requests / 2, failures: 0, inFlight: 0 })),
});

test('three workers: figures add up, each backend once, the majority state wins', () => {
  const merged = mergeStatuses(
    [view(1, { 'a:1': 'up', 'b:1': 'up' }, 10), view(2, { 'a:1': 'up', 'b:1': 'down' }, 20), view(3, { 'a:1': 'up', 'b:1': 'down' }, 30)],
    50,
  );
  assert.equal(merged['workers'], 3);
  assert.deepEqual(merged['totals'], {
    backends: 2,
    up: 1,
    down: 1,
    draining: 0,
    unknown: 0,
    requests: 60,
    fastPath: 57,
    retries: 3,
    inFlight: 0,
    responses: { '2xx': 60 },
    errors: { LB_UPSTREAM_FAILED: 3 },
  });
  const backends = merged['backends'] as Array<{ id: string; state: string; requests: number; perWorker: unknown[] }>;
  assert.deepEqual(backends.map((b) => [b.id, b.state, b.requests, b.perWorker.length]), [
    ['a:1', 'up', 30, 3],
    ['b:1', 'down', 30, 3],
  ]);
  assert.deepEqual(
    merged['memory'],
    { rssBytes: 650, primaryRssBytes: 50, heapUsedBytes: 60, heapLimitBytes: 1000 },
    "the resident memory of the workers and the primary adds up, the heaps of the workers; the heap limit is each one's",
  );
});

test('a single answer, the primary silent, is passed through with its figures', () => {
  const single = view(1, { 'a:1': 'draining' }, 4);
  const merged = mergeStatuses([single]);
  assert.equal(merged['workers'], 1);
  assert.deepEqual(merged['totals'], {
    backends: 1,
    up: 0,
    down: 0,
    draining: 1,
    unknown: 0,
    requests: 4,
    fastPath: 3,
    retries: 1,
    inFlight: 0,
    responses: { '2xx': 4 },
    errors: { LB_UPSTREAM_FAILED: 1 },
  });
  const backends = merged['backends'] as Array<{ id: string; state: string; requests: number; failures: number }>;
  assert.deepEqual(backends.map((b) => [b.id, b.state, b.requests, b.failures]), [['a:1', 'draining', 2, 0]]);
  assert.deepEqual(merged['memory'], { rssBytes: 100, heapUsedBytes: 10, heapLimitBytes: 1000 });
});

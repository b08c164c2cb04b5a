// With WORKERS > 1, /_lb/status merges every worker's view: figures add up, each backend
// shows once per route with the state most workers see, and the routes count those states
// as the totals do. The balancer's pid and uptime are the primary's; each worker's are its own.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeStatuses } from '../src/status-merge.js';

const view = (worker: number, states: Record<string, string>, requests: number) => ({
  worker,
  pid: 1000 + worker,
  uptimeSeconds: worker,
  startedAt: `2025-01-01T00:00:0${worker}.000Z`,
  memory: { rssBytes: worker * 100, heapUsedBytes: worker * 10, heapLimitBytes: 1000 },
  totals: { requests, fastPath: requests - 1, retries: 1, inFlight: 0, responses: { '2xx': requests }, errors: { LB_UPSTREAM_FAILED: 1 } },
  backends: Object.entries(states).map(([id, state]) => ({ id, route: '*', state, health: state, requests: requests / 2, failures: 0, inFlight: 0 })),
  routes: [{ route: '*', backends: Object.keys(states).length, up: Object.values(states).filter((state) => state === 'up').length }],
});

const PRIMARY = { pid: 999, rssBytes: 50, startedAt: '2025-01-01T00:00:00.000Z', uptimeSeconds: 60 };

test('three workers: figures add up, each backend once, the majority state wins', () => {
  const merged = mergeStatuses(
    [view(1, { 'a:1': 'up', 'b:1': 'up' }, 10), view(2, { 'a:1': 'up', 'b:1': 'down' }, 20), view(3, { 'a:1': 'up', 'b:1': 'down' }, 30)],
    PRIMARY,
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

test("the routes count each backend's merged state, as the totals do, whichever worker answered first", () => {
  // The first worker sees both backends up; the two others see b down, so b is down.
  const merged = mergeStatuses([view(1, { 'a:1': 'up', 'b:1': 'up' }, 2), view(2, { 'a:1': 'up', 'b:1': 'down' }, 2), view(3, { 'a:1': 'up', 'b:1': 'down' }, 2)], PRIMARY);
  assert.deepEqual(merged['routes'], [{ route: '*', backends: 2, up: 1 }]);
  assert.equal((merged['totals'] as { up: number }).up, 1);
});

test('a backend in two routes shows once in each, as with one process', () => {
  const one = view(1, { 'a:1': 'up' }, 2);
  const both = { ...one, backends: [...one.backends, { ...one.backends[0], route: 'api.app.dev', state: 'down', health: 'down' }], routes: [one.routes[0], { route: 'api.app.dev', backends: 1, up: 0 }] };
  const merged = mergeStatuses([both, { ...both, worker: 2, pid: 1002 }], PRIMARY);
  const backends = merged['backends'] as Array<{ id: string; route: string; state: string; perWorker: unknown[] }>;
  assert.deepEqual(backends.map((b) => [b.route, b.id, b.state, b.perWorker.length]), [
    ['*', 'a:1', 'up', 2],
    ['api.app.dev', 'a:1', 'down', 2],
  ]);
  assert.deepEqual(merged['routes'], [{ route: '*', backends: 1, up: 1 }, { route: 'api.app.dev', backends: 1, up: 0 }]);
});

test("the page's pid and uptime are the primary's, the balancer's own process; no worker speaks for the whole", () => {
  const merged = mergeStatuses([view(1, { 'a:1': 'up' }, 2), view(2, { 'a:1': 'up' }, 2)], PRIMARY);
  assert.equal(merged['pid'], 999);
  assert.equal(merged['uptimeSeconds'], 60);
  assert.equal(merged['startedAt'], PRIMARY.startedAt);
  assert.equal('worker' in merged, false);
  assert.deepEqual(merged['perWorker'], [
    { worker: 1, pid: 1001, uptimeSeconds: 1 },
    { worker: 2, pid: 1002, uptimeSeconds: 2 },
  ]);
  const backends = merged['backends'] as Array<Record<string, unknown>>;
  assert.equal('worker' in (backends[0] ?? {}), false, "a merged backend is no one worker's view");

  const alone = mergeStatuses([view(1, { 'a:1': 'up' }, 2)]);
  assert.equal('pid' in alone || 'uptimeSeconds' in alone || 'worker' in alone, false, 'without the primary, no process speaks for the balancer');
});

// With WORKERS=2, an operator's drain outlives the worker that took it: the primary remembers
// it and tells every worker it starts later, before that worker listens. So after a worker is
// killed and replaced, the drained backend still gets no request, and the merged status shows
// it draining in every worker's view, its route counting one backend up, as the totals do.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { send, type Reply } from './helpers/http-client.js';
import { waitFor } from './helpers/wait-for.js';
import { startWorkersBalancer, type MergedStatus } from './helpers/workers-process.js';

/** Requests the worker `worker` has forwarded, from the merged status. */
const servedBy = (status: MergedStatus, worker: number): number =>
  status.backends.reduce((sum, backend) => sum + (backend.perWorker.find((view) => view.worker === worker)?.requests ?? 0), 0);

test('WORKERS=2: a worker started after an operator drained a backend sends it nothing, and the merged status agrees', { timeout: 90_000 }, async (t) => {
  const [drained, kept] = await startBackends(t, ['drained', 'kept']);
  if (!drained || !kept) throw new Error('two backends');
  const { main, port, status } = await startWorkersBalancer(t, {
    BACKENDS: `${drained.id},${kept.id}`,
    ADMIN_TOKEN: 'secret',
    HEALTH_INTERVAL_MS: '100',
    LOG_LEVEL: 'warn',
  });
  await waitFor(async () => {
    const current = await status();
    return current.workers === 2 && current.totals['up'] === 2;
  }, { timeoutMs: 30_000, what: 'two workers with both backends up' });

  const drain = await send(port, `/_lb/backends/${drained.id}/drain`, { method: 'POST', headers: { authorization: 'Bearer secret' } });
  assert.equal(drain.status, 200, drain.body);
  const before = await status();
  const victim = before.perWorker[0];
  if (!victim) throw new Error('no worker on the status page');
  process.kill(victim.pid, 'SIGKILL');

  // The replacement: a pid not seen before, serving, with the kept backend up in its own view.
  const replacement = await waitFor(async () => {
    const current = await status();
    const fresh = current.perWorker.find((worker) => !before.perWorker.some((old) => old.pid === worker.pid));
    const keptView = current.backends.find((backend) => backend.id === kept.id)?.perWorker.find((view) => view.worker === fresh?.worker);
    return current.workers === 2 && keptView?.state === 'up' && fresh;
  }, { timeoutMs: 30_000, what: 'a replacement worker with the kept backend up' });

  // Fresh connections until the replacement has taken ten of them (the kernel chooses the worker).
  const replies: Reply[] = [];
  await waitFor(async () => {
    for (let i = 0; i < 10; i++) replies.push(await send(port, '/'));
    return servedBy(await status(), replacement.worker) >= 10;
  }, { timeoutMs: 30_000, intervalMs: 0, what: 'ten requests served by the replacement worker' });

  assert.deepEqual(new Set(replies.map((reply) => `${reply.status} ${String(reply.headers['x-backend'])}`)), new Set([`200 ${kept.id}`]));
  assert.equal(drained.requests.length, 0, 'the drained backend got no request');

  const merged = await status();
  const drainedView = merged.backends.find((backend) => backend.id === drained.id);
  assert.equal(drainedView?.state, 'draining');
  assert.deepEqual(drainedView?.perWorker.map((view) => view.state), ['draining', 'draining'], 'every worker sees it draining, the replacement too');
  assert.equal(merged.totals['up'], 1);
  assert.equal(merged.totals['draining'], 1);
  assert.deepEqual(merged.routes, [{ route: '*', backends: 2, up: 1 }], 'the route counts what the totals count');
  assert.equal(merged.pid, main.child.pid, "the balancer's pid is the primary's");
  assert.equal(merged.totals['requests'], merged.backends.reduce((sum, backend) => sum + backend.requests, 0));
});

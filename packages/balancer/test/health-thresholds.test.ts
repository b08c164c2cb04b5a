// Active health checks with rise/fall thresholds, stepped by hand (`checkAll()`): a new
// backend is up after its first passed check; an up backend goes down after `fall` failed
// checks in a row, and a down one comes back after `rise` passed checks in a row.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { startBalancer } from './helpers/balancer.js';
import { waitFor } from './helpers/wait-for.js';

test('rise and fall thresholds decide when a backend changes state', { timeout: 20_000 }, async (t) => {
  const [a, b] = await startBackends(t, ['a', 'b']);
  assert.ok(a && b);
  b.healthy = false; // before the balancer starts: its first check must fail
  // No background checks: the test steps them.
  const lb = await startBalancer(t, { BACKENDS: `${a.id},${b.id}`, HEALTH_INTERVAL_MS: '600000', HEALTH_RISE: '3', HEALTH_FALL: '2' });
  const stateOf = async (id: string): Promise<string | undefined> => (await lb.status()).backends.find((x) => x.id === id)?.state;

  // The first checks start when the backends join: wait for their results, whether they came
  // before listen() resolved or after.
  await waitFor(async () => (await lb.status()).backends.every((backend) => backend.lastCheck !== null), { what: 'the first check of each backend' });
  assert.equal(await stateOf(a.id), 'up', 'one passed check brings a new backend up');
  assert.equal(await stateOf(b.id), 'unknown', 'a new backend that fails its check gets no traffic');
  assert.deepEqual(new Set([(await lb.client.get('/')).headers['x-backend'], (await lb.client.get('/')).headers['x-backend']]), new Set([a.id]));

  a.healthy = false;
  await lb.balancer.health.checkAll();
  assert.equal(await stateOf(a.id), 'up', 'one failure is below fall=2');
  await lb.balancer.health.checkAll();
  assert.equal(await stateOf(a.id), 'down', 'two failures in a row take it down');
  assert.equal(await stateOf(b.id), 'down', 'a new backend that keeps failing is down after fall checks');
  const refused = await lb.client.get('/');
  assert.equal(refused.status, 503);

  a.healthy = true;
  await lb.balancer.health.checkAll();
  await lb.balancer.health.checkAll();
  assert.equal(await stateOf(a.id), 'down', 'two passes are below rise=3');
  a.healthy = false;
  await lb.balancer.health.checkAll();
  a.healthy = true;
  await lb.balancer.health.checkAll();
  await lb.balancer.health.checkAll();
  assert.equal(await stateOf(a.id), 'down', 'a failure in between starts the count again');
  await lb.balancer.health.checkAll();
  assert.equal(await stateOf(a.id), 'up', 'three passes in a row bring it back');
  const served = await lb.client.get('/');
  assert.equal(served.status, 200);
  assert.equal(served.headers['x-backend'], a.id);
  const status = await lb.status();
  const lastCheck = status.backends.find((x) => x.id === a.id)?.lastCheck;
  assert.equal(lastCheck?.ok, true);
  assert.equal(lastCheck?.status, 200);
});

// A backend that takes the request and never answers: after UPSTREAM_HEADERS_TIMEOUT_MS the
// client gets 504 with a sentence naming the backend, and the request is not sent again.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';

test('a backend that does not answer in time gives 504, not retried', { timeout: 20_000 }, async (t) => {
  const [slow, other] = await startBackends(t, ['slow', 'other']);
  assert.ok(slow && other);
  const lb = await startBalancer(t, { BACKENDS: `${slow.id},${other.id}`, UPSTREAM_HEADERS_TIMEOUT_MS: '200' });
  await waitForUp(lb, [slow.id, other.id]);
  slow.plan.push('hang');

  // The 30 s default would outlast the test's timeout: this 504 comes from the 200 ms setting.
  const reply = await lb.client.get('/');
  assert.equal(reply.status, 504);
  assert.equal(reply.body, `The backend ${slow.id} did not answer in time.\n`);
  assert.equal(slow.requests.length, 1);
  assert.equal(other.requests.length, 0, 'a request that reached a backend is never retried');

  const json = await lb.client.get('/', { accept: 'application/json' });
  // The round robin moved on: this one is served by the other backend.
  assert.equal(json.status, 200);
  slow.plan.push('hang');
  const timedOut = await lb.client.get('/', { accept: 'application/json' });
  assert.equal(timedOut.status, 504);
  assert.deepEqual(JSON.parse(timedOut.body), { error: `The backend ${slow.id} did not answer in time.`, code: 'LB_UPSTREAM_TIMEOUT' });

  const status = await lb.status();
  assert.equal(status.backends.find((b) => b.id === slow.id)?.failures, 2);
  assert.deepEqual(status.totals['errors'], { LB_UPSTREAM_TIMEOUT: 2 });
});

// Requests are spread evenly: 3000 requests through the real balancer to 3 real, healthy
// backends reach each backend exactly 1000 times, and the client is told the same.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';

test('3000 requests to 3 healthy backends: exactly 1000 each', { timeout: 60_000 }, async (t) => {
  const backends = await startBackends(t, ['a', 'b', 'c']);
  const lb = await startBalancer(t, { BACKENDS: backends.map((b) => b.id).join(',') });
  await waitForUp(lb, backends.map((b) => b.id));

  const answeredBy = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < 3000) {
      next += 1;
      const reply = await lb.client.get('/');
      assert.equal(reply.status, 200, reply.body);
      const backend = String(reply.headers['x-backend']);
      answeredBy.set(backend, (answeredBy.get(backend) ?? 0) + 1);
    }
  };
  // 16 clients at once: the round robin must stay even under concurrency too.
  await Promise.all(Array.from({ length: 16 }, worker));

  assert.deepEqual(
    backends.map((b) => b.requests.length),
    [1000, 1000, 1000],
    'requests each backend received',
  );
  assert.deepEqual(
    backends.map((b) => answeredBy.get(b.id)),
    [1000, 1000, 1000],
    'x-backend as the client saw it',
  );
  const status = await lb.status();
  assert.deepEqual(
    status.backends.map((b) => b.requests),
    [1000, 1000, 1000],
  );
});

// The client is told which backend served it: `x-backend` names that backend as host:port,
// the same name /_lb/status and the admin endpoints use.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';

test('x-backend names the backend that answered', { timeout: 20_000 }, async (t) => {
  const backends = await startBackends(t, ['a', 'b', 'c']);
  const lb = await startBalancer(t, { BACKENDS: backends.map((b) => b.id).join(',') });
  await waitForUp(lb, backends.map((b) => b.id));

  for (let i = 0; i < 6; i++) {
    const reply = await lb.client.get(`/n/${i}`);
    const answered = backends.find((b) => b.requests.some((r) => r.url === `/n/${i}`));
    assert.ok(answered);
    assert.equal(reply.headers['x-backend'], answered.id);
    assert.equal(reply.headers['x-backend'], `127.0.0.1:${answered.port}`);
    // The backend's own headers and body came through with it.
    assert.equal(reply.headers['x-served-by'], answered.name);
    assert.equal(reply.body, `${answered.name} GET /n/${i}\n`);
  }
  const ids = (await lb.status()).backends.map((b) => b.id);
  assert.deepEqual(ids, backends.map((b) => b.id), '/_lb/status uses the same names');
});

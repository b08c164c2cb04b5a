// A request that may have reached a backend is never sent again: a backend that reads the
// request and then drops the connection costs the client a 502, and that backend (and no
// other) saw the request exactly once. A visit must not count twice.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';

test('a connection dropped after the request was sent gives 502 and no retry', { timeout: 20_000 }, async (t) => {
  const [first, second] = await startBackends(t, ['first', 'second']);
  assert.ok(first && second);
  const lb = await startBalancer(t, { BACKENDS: `${first.id},${second.id}` });
  await waitForUp(lb, [first.id, second.id]);
  first.plan.push('reset');

  const reply = await lb.client.get('/visit');
  assert.equal(reply.status, 502);
  assert.equal(reply.body, `The backend ${first.id} failed while handling this request.\n`);
  assert.equal(reply.headers['x-backend'], undefined, 'no backend answered');
  assert.deepEqual(first.requests.map((r) => r.url), ['/visit'], 'the backend saw the request exactly once');
  assert.equal(second.requests.length, 0, 'the request was not retried elsewhere');

  const status = await lb.status();
  assert.equal(status.totals['retries'], 0);
  assert.equal(status.backends.find((b) => b.id === first.id)?.failures, 1);
  assert.deepEqual(status.totals['errors'], { LB_UPSTREAM_FAILED: 1 });
  // A backend that dropped one request is not a dead backend: the next requests are served.
  const next = await lb.client.get('/');
  assert.equal(next.status, 200);
  assert.equal(next.headers['x-backend'], second.id);
});

test('a POST dropped after it was sent is answered 502 in JSON when asked, and never retried', { timeout: 20_000 }, async (t) => {
  const [first, second] = await startBackends(t, ['first', 'second']);
  assert.ok(first && second);
  const lb = await startBalancer(t, { BACKENDS: `${first.id},${second.id}` });
  await waitForUp(lb, [first.id, second.id]);
  first.plan.push('reset');

  const reply = await lb.client.request('/', { method: 'POST', headers: { accept: 'application/json' }, body: 'x' });
  assert.equal(reply.status, 502);
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(reply.body), {
    error: `The backend ${first.id} failed while handling this request.`,
    code: 'LB_UPSTREAM_FAILED',
  });
  assert.equal(first.requests.length, 1);
  assert.equal(second.requests.length, 0);
});

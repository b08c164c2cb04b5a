// A replica whose event loop was busy past REDIS_TIMEOUT_MS while Redis answered: the answer
// is already there when the loop runs again, so the visit is answered 200 with its count
// instead of a 503 for a visit Redis did count.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, startTestRedis, startWeb, visitsIn } from './support.js';

const TIMEOUT_MS = 1000;

function busyFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // the replica's process does nothing else meanwhile, like under a long synchronous task
  }
}

test('a reply that arrived while the event loop was blocked past the deadline still answers 200', { timeout: 15_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const { service, port } = await startWeb(t, redis, { REDIS_TIMEOUT_MS: String(TIMEOUT_MS) });
  assert.equal(visitsIn((await get(port, '/')).body), 1);

  // The replica runs in this process. Right after it sends the increment (the same turn), block
  // the loop for longer than the deadline: Redis runs the increment in time and its reply waits
  // in the socket while our timer becomes overdue.
  service.server.once('request', () => setImmediate(() => busyFor(TIMEOUT_MS * 1.5)));
  const reply = await get(port, '/');
  assert.equal(reply.status, 200, reply.body);
  assert.equal(visitsIn(reply.body), 2);
  assert.equal(await redis.getNumber('visits'), 2, 'the counter equals the number of 200s');
});

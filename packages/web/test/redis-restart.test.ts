// Redis restarted (or not up yet when the replica starts): the replica serves again by itself,
// without a restart of its own, and says so once in its log.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, startTestRedis, startWeb, visitsIn, waitFor } from './support.js';

const RECOVERY_MS = 10_000;

test('after Redis is killed and started again on the same port, GET / succeeds again by itself', { timeout: 30_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const { port, logs } = await startWeb(t, redis);
  assert.equal(visitsIn((await get(port, '/')).body), 1);

  for (let round = 1; round <= 2; round++) {
    await redis.kill();
    assert.equal((await get(port, '/')).status, 503);
    await redis.start();
    // The restarted Redis is empty, so the first visit it counts is number 1.
    let firstOk = '';
    await waitFor(
      'GET / to answer 200 after the restart',
      async () => {
        const reply = await get(port, '/');
        firstOk = reply.body;
        return reply.status === 200;
      },
      RECOVERY_MS,
    );
    assert.equal(visitsIn(firstOk), 1, `round ${round}`);
    assert.equal(await redis.getNumber('visits'), 1);
  }

  // One line per change of state, not one per reconnect attempt.
  const states = logs.lines().filter((line) => typeof line['redis'] === 'string').map((line) => line['redis']);
  assert.deepEqual(states, ['ready', 'unreachable', 'ready', 'unreachable', 'ready']);
});

test('a replica started before Redis answers 503 until Redis is up, then serves', { timeout: 30_000 }, async (t) => {
  const redis = await startTestRedis(t);
  await redis.kill();
  const { port } = await startWeb(t, redis, {}, { waitReady: false });
  const down = await get(port, '/');
  assert.equal(down.status, 503);
  assert.equal(down.headers['retry-after'], '1');
  assert.equal((await get(port, '/readyz')).status, 503);
  assert.equal((await get(port, '/healthz')).status, 200);

  await redis.start();
  await waitFor('GET /readyz to answer 200', async () => (await get(port, '/readyz')).status === 200, RECOVERY_MS);
  assert.equal(visitsIn((await get(port, '/')).body), 1);
  assert.equal(await redis.getNumber('visits'), 1);
});

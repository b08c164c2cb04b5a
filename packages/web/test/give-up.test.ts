// The shutdown's last call, `giveUp`, reaches visits not yet sent to Redis too, and those that
// come after it: they are answered "shutting down" (503, not counted) and are never sent,
// rather than being cut with their connection at the end of the grace period.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '@visit-counter/shared';
import { captureLogs } from '@visit-counter/shared/test-helpers';
import { createCounter } from '../src/counter.js';
import { ShuttingDownError } from '../src/errors.js';
import { createRedisClient } from '../src/redis-client.js';
import { startTestRedis, waitFor } from './support.js';

test('visits not yet sent when the shutdown gives up, or after, are refused as not counted, and never sent', { timeout: 15_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const logger = createLogger({ name: 'web', destination: captureLogs().stream });
  const connection = createRedisClient(redis.url, 0, 2000, logger);
  t.after(() => connection.redis.disconnect());
  await connection.redis.connect();
  await waitFor('the connection to be usable', () => connection.usable());
  const counter = createCounter({ connection, key: 'visits', timeoutMs: 2000, reconcileMs: 0, logger });

  assert.equal(await counter.next(), 1, 'a visit before the shutdown is counted');
  const late = [counter.next(), counter.next()];
  counter.giveUp();
  for (const visit of late) await assert.rejects(visit, ShuttingDownError);

  // A visit after that is refused too: sent, it could be counted and then cut unanswered.
  await assert.rejects(counter.next(), ShuttingDownError);
  // A turn or two later is when they would have been sent: the counter has not moved.
  await new Promise((resolve) => setImmediate(() => setImmediate(() => setImmediate(resolve))));
  assert.equal(await redis.getNumber('visits'), 1);
});

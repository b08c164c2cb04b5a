// The real topology without Docker: a real redis-server, three real web replicas (web-1..3)
// and the balancer in front. 300 sequential GET / come back round-robin across the three
// with the counts 1..300 in order; /_lb/status shows all three up; Redis holds 300.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRedis } from '@visit-counter/shared/test-helpers';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { startReplica } from './helpers/replica.js';

test('balancer + 3 web replicas + Redis: 300 visits round-robin, counted 1..300 in order', { timeout: 60_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const names = ['web-1', 'web-2', 'web-3'];
  const replicas: string[] = [];
  for (const name of names) replicas.push((await startReplica(t, name, redis.url, { SHUTDOWN_GRACE_MS: '1000' })).id);
  const lb = await startBalancer(t, { BACKENDS: replicas.join(',') });
  // A replica is up once its /readyz has seen Redis.
  await waitForUp(lb, replicas, 10_000);

  for (let i = 0; i < 300; i++) {
    const reply = await lb.client.get('/');
    assert.equal(reply.status, 200, reply.body);
    const name = names[i % 3] as string;
    assert.equal(reply.body, `I've been visited ${i + 1} times, and my hostname is ${name}\n`, `visit ${i + 1}`);
    assert.equal(reply.headers['x-backend'], replicas[i % 3]);
  }

  assert.equal(await redis.getNumber('visits'), 300);
  const status = await lb.status();
  assert.deepEqual(
    status.backends.map((b) => [b.id, b.state]),
    replicas.map((id) => [id, 'up']),
  );
  assert.deepEqual(status.backends.map((b) => b.requests), [100, 100, 100]);
  assert.equal(status.totals['up'], 3);
  assert.deepEqual(status.totals['responses'], { '2xx': 300 });
});

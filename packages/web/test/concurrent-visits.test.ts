// A count is never wrong: under concurrency every response shows a distinct number, the
// numbers are exactly 1..N, and Redis ends at N, for one replica and for two sharing Redis.

import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { test } from 'node:test';
import { get, startTestRedis, startWeb, type Reply } from './support.js';

const N = 500;
// Counting is the subject here, not the Redis deadline: a generous one keeps a loaded CI
// machine from turning a slow batch into a 503.
const ENV = { REDIS_TIMEOUT_MS: '5000' };

function countsOf(replies: Reply[]): number[] {
  return replies.map((reply) => {
    assert.equal(reply.status, 200, reply.body);
    const json = JSON.parse(reply.body) as { visits: number };
    return json.visits;
  });
}

function assertExactlyOneToN(counts: number[], n: number): void {
  const sorted = [...counts].sort((a, b) => a - b);
  assert.equal(new Set(sorted).size, n, 'every response shows a distinct count');
  assert.deepEqual(sorted, Array.from({ length: n }, (_, i) => i + 1));
}

test(`${N} concurrent GET / on one replica get the counts 1..${N}`, async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis, ENV);
  const agent = new Agent({ keepAlive: true, maxSockets: 200 });
  t.after(() => agent.destroy());

  const replies = await Promise.all(
    Array.from({ length: N }, () => get(port, '/', { agent, headers: { accept: 'application/json' } })),
  );
  assertExactlyOneToN(countsOf(replies), N);
  assert.equal(await redis.getNumber('visits'), N);

  const instanceCounts = replies.map((reply) => (JSON.parse(reply.body) as { instanceVisits: number }).instanceVisits);
  assertExactlyOneToN(instanceCounts, N);
});

test(`${N} concurrent GET / interleaved over two replicas on one Redis get the counts 1..${N}`, async (t) => {
  const redis = await startTestRedis(t);
  const a = await startWeb(t, redis, ENV);
  const b = await startWeb(t, redis, ENV);
  const agent = new Agent({ keepAlive: true, maxSockets: 150 });
  t.after(() => agent.destroy());

  const replies = await Promise.all(
    Array.from({ length: N }, (_, i) => get(i % 2 === 0 ? a.port : b.port, '/', { agent, headers: { accept: 'application/json' } })),
  );
  assertExactlyOneToN(countsOf(replies), N);
  assert.equal(await redis.getNumber('visits'), N);

  // Each replica's own count is contiguous too: 1..N/2.
  for (const parity of [0, 1]) {
    const own = replies
      .filter((_, i) => i % 2 === parity)
      .map((reply) => (JSON.parse(reply.body) as { instanceVisits: number }).instanceVisits);
    assertExactlyOneToN(own, N / 2);
  }
});

// Redis down or frozen: GET / fails fast with 503, a sentence and Retry-After; /readyz says
// not ready while /healthz stays up; and no visit is ever counted late for a request that
// was answered with an error.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, startTestRedis, startWeb, visitsIn, waitFor, type Reply } from './support.js';

// A visit sent on the connection as it died waits REDIS_RECONCILE_MS for Redis to come back:
// a short window keeps even that answer fast.
const ENV = { REDIS_TIMEOUT_MS: '200', REDIS_RECONCILE_MS: '500' };
// Failing fast shows in the sentences (the deadline's, or "cannot be reached"); a replica that
// waited on a dead or frozen Redis instead would never answer, and the test's timeout fails it.
const getFrom = (port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> => get(port, path, { headers });

function assertUnavailable(reply: Reply, ...sentences: string[]): void {
  assert.equal(reply.status, 503, reply.body);
  assert.equal(reply.headers['retry-after'], '1');
  assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
  assert.ok(sentences.map((sentence) => `${sentence}\n`).includes(reply.body), reply.body);
}

/** A 503 to HEAD /: the headers of the sentence GET / would get, and no body. */
function assertHeadUnavailable(reply: Reply, sentence: string): void {
  assert.equal(reply.status, 503, reply.body);
  assert.equal(reply.headers['retry-after'], '1');
  assert.equal(reply.headers['content-length'], String(Buffer.byteLength(`${sentence}\n`)));
  assert.equal(reply.body, '');
}

/** Polls GET / until it answers 200 and returns that first 200. */
async function getUntilOk(port: number): Promise<Reply> {
  let firstOk: Reply | undefined;
  await waitFor('GET / to succeed again', async () => {
    const reply = await get(port, '/');
    if (reply.status === 200) firstOk = reply;
    return firstOk !== undefined;
  });
  assert.ok(firstOk);
  return firstOk;
}

const UNREACHABLE = 'The visit counter is unavailable because Redis cannot be reached; please try again shortly.';
const TIMED_OUT = 'The visit counter did not answer within 200 ms; please try again.';
const UNKNOWN = 'The connection to Redis closed while this visit was being counted, so it may or may not have been counted; please try again.';

test('Redis killed: GET / answers 503 fast, /readyz 503, /healthz 200, and nothing is counted later', { timeout: 30_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis, ENV);
  assert.equal(visitsIn((await getUntilOk(port)).body), 1);

  await redis.kill();
  for (let i = 0; i < 5; i++) {
    // Usually "cannot be reached"; a request that went out on the dying connection just
    // before the replica saw it close may instead hit the deadline or lose its answer.
    assertUnavailable(await getFrom(port, '/'), UNREACHABLE, TIMED_OUT, UNKNOWN);
  }
  const json = await getFrom(port, '/', { accept: 'application/json' });
  assert.equal(json.status, 503);
  assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual(JSON.parse(json.body), { error: UNREACHABLE, code: 'WEB_COUNTER_UNAVAILABLE' });

  const readyz = await getFrom(port, '/readyz');
  assertUnavailable(readyz, UNREACHABLE);
  // HEAD / has the status GET / would have, without a body and without counting.
  assertHeadUnavailable(await get(port, '/', { method: 'HEAD' }), UNREACHABLE);
  const healthz = await get(port, '/healthz');
  assert.equal(healthz.status, 200);
  assert.equal(healthz.body, 'ok\n');

  // A fresh Redis on the same port: had any failed visit been queued, it would show up now.
  await redis.start();
  assert.equal(await redis.getNumber('visits'), 0);
  assert.equal(visitsIn((await getUntilOk(port)).body), 1);
  assert.equal(await redis.getNumber('visits'), 1, 'the counter equals the number of 200s');
});

test('Redis frozen: GET / answers 503 within the timeout and the visit is never counted late', { timeout: 30_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis, ENV);

  redis.pause();
  t.after(() => redis.resume());
  const failed = await Promise.all([getFrom(port, '/'), getFrom(port, '/'), getFrom(port, '/')]);
  for (const reply of failed) assertUnavailable(reply, TIMED_OUT);
  const sequential = await getFrom(port, '/');
  assertUnavailable(sequential, TIMED_OUT);
  const readyz = await getFrom(port, '/readyz');
  assertUnavailable(readyz, UNREACHABLE);
  assertHeadUnavailable(await get(port, '/', { method: 'HEAD' }), TIMED_OUT);
  assert.equal((await get(port, '/healthz')).status, 200);

  redis.resume();
  // The four increments stuck in the frozen Redis run now, past their deadline: they must count nothing.
  assert.equal((await getUntilOk(port)).body, "I've been visited 1 times, and my hostname is test-host\n");
  assert.equal(await redis.getNumber('visits'), 1, 'the counter equals the number of 200s');
  await waitFor('/readyz to answer 200 again', async () => (await get(port, '/readyz')).status === 200);
});

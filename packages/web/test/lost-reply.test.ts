// The connection to Redis closes after the increment was sent (a Redis restart): the replica
// holds the visits, asks Redis once it is back whether that increment ran, and answers what
// really happened: 200 with the visit's own number, or 503 "not counted". Only when Redis does
// not come back within REDIS_RECONCILE_MS does it say the outcome is unknown.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogCapture, RedisServer } from '@visit-counter/shared/test-helpers';
import { startRedisRelay } from './redis-relay.js';
import { get, startTestRedis, startWeb, visitsIn, waitFor, type Reply } from './support.js';

// A deadline far away: what decides these visits is the lost connection, never the timer.
const TIMEOUT = { REDIS_TIMEOUT_MS: '5000' };
const JSON_ACCEPT = { headers: { accept: 'application/json' } };
// The counter key as ioredis sends it in the increment (RESP bulk string), and nowhere else.
const COUNTER_ARGUMENT = '$6\r\nvisits\r\n';

const NOT_COUNTED = {
  error: 'The visit counter is unavailable because Redis cannot be reached; please try again shortly.',
  code: 'WEB_COUNTER_UNAVAILABLE',
};
const UNKNOWN = {
  error: 'The connection to Redis closed while this visit was being counted, so it may or may not have been counted; please try again.',
  code: 'WEB_COUNTER_OUTCOME_UNKNOWN',
};

function visitsOf(reply: Reply): number {
  assert.equal(reply.status, 200, reply.body);
  return (JSON.parse(reply.body) as { visits: number }).visits;
}

test('Redis counted the visits but their replies were lost: each is answered 200 with its own number', { timeout: 20_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const relay = await startRedisRelay(t, redis.port);
  const { port, logs } = await startWeb(t, redis, { ...TIMEOUT, REDIS_URL: relay.url });
  assert.equal(visitsIn((await get(port, '/')).body), 1);

  relay.loseReplies();
  const n = 20;
  const replies = Promise.all(Array.from({ length: n }, () => get(port, '/', JSON_ACCEPT)));
  // Redis has run every increment; not one reply reached the replica. Then the connection goes.
  await waitForCounter(redis, 1 + n);
  relay.cut();

  const counts = (await replies).map(visitsOf).sort((a, b) => a - b);
  assert.deepEqual(counts, Array.from({ length: n }, (_, i) => i + 2), 'every visit shows its own number, none shown twice');
  assert.equal(await redis.getNumber('visits'), 1 + n, 'the counter equals the number of 200s');
  assert.deepEqual(new Set(outcomes(logs)), new Set(['counted']), 'the numbers came from asking Redis after the reconnect');
  // The replica serves on the new connection as before.
  assert.equal(visitsIn((await get(port, '/')).body), n + 2);
});

test('the increment never reached Redis: 503 "not counted", and a late copy of it counts nothing', { timeout: 20_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const relay = await startRedisRelay(t, redis.port);
  // A deadline further still, so that the late copy below arrives before it on any machine.
  const { port, logs } = await startWeb(t, redis, { REDIS_TIMEOUT_MS: '30000', REDIS_URL: relay.url });
  assert.equal(visitsIn((await get(port, '/')).body), 1);

  relay.holdCommands();
  const reply = get(port, '/', JSON_ACCEPT);
  await relay.holding(COUNTER_ARGUMENT);
  relay.cut();

  const answered = await reply;
  assert.equal(answered.status, 503, answered.body);
  assert.equal(answered.headers['retry-after'], '1');
  assert.deepEqual(JSON.parse(answered.body), NOT_COUNTED);
  assert.equal(await redis.getNumber('visits'), 1, 'the counter equals the number of 200s');
  assert.deepEqual(outcomes(logs), ['not counted']);

  // The increment that was kept back reaches Redis after all, still before its own deadline:
  // only the replica's "not counted" mark can stop it now.
  assert.equal(await relay.deliverLate(), ':-2\r\n', 'the script refused it for the mark (-2), not for its deadline (-1)');
  assert.equal(await redis.getNumber('visits'), 1, 'the late copy counted nothing');
  assert.equal(visitsIn((await get(port, '/')).body), 2);
});

test('Redis does not come back within REDIS_RECONCILE_MS: 503 "outcome unknown", and close() does not wait longer', { timeout: 30_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const relay = await startRedisRelay(t, redis.port);
  const reconcileMs = 1000;
  // A long grace: a close() that waited for anything but the window would hit the test timeout.
  const { service, port, logs } = await startWeb(t, redis, { ...TIMEOUT, REDIS_URL: relay.url, REDIS_RECONCILE_MS: String(reconcileMs), SHUTDOWN_GRACE_MS: '60000' });

  relay.loseReplies();
  const started = Date.now();
  const reply = get(port, '/', JSON_ACCEPT);
  await waitForCounter(redis, 1);
  relay.refuse();
  relay.cut();
  const closed = service.close();

  const answered = await reply;
  const ms = Date.now() - started;
  assert.equal(answered.status, 503, answered.body);
  assert.deepEqual(JSON.parse(answered.body), UNKNOWN);
  // It waited for Redis (a timer never fires early); the test's timeout bounds the wait.
  assert.ok(ms >= reconcileMs, `answered after ${ms} ms`);
  await closed;
  assert.equal(service.server.listening, false);
  // Redis did count it: "unknown" was the honest answer.
  assert.equal(await redis.getNumber('visits'), 1);
  assert.deepEqual(outcomes(logs), ['unknown']);
});

test('REDIS_RECONCILE_MS=0: a lost reply is answered at once with 503 "outcome unknown"', { timeout: 20_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const relay = await startRedisRelay(t, redis.port);
  const { port } = await startWeb(t, redis, { ...TIMEOUT, REDIS_URL: relay.url, REDIS_RECONCILE_MS: '0' });

  relay.loseReplies();
  const reply = get(port, '/', JSON_ACCEPT);
  await waitForCounter(redis, 1);
  relay.cut();

  // Redis is back at once (the relay accepts again), yet nobody asks it.
  const answered = await reply;
  assert.equal(answered.status, 503, answered.body);
  assert.deepEqual(JSON.parse(answered.body), UNKNOWN);
  assert.equal(await redis.getNumber('visits'), 1);
});

test('a reply lost past REDIS_TIMEOUT_MS, then the connection: 503 (timeout), and a warning naming the counted batch', { timeout: 30_000 }, async (t) => {
  const cases: Array<[string, Record<string, string>, string]> = [
    // Redis is back at once: the replica asks it, and knows.
    ['asked', {}, 'a batch answered 503 was counted: its reply was lost with the connection to Redis'],
    // Reconciliation is off: it cannot know, and says so.
    [
      'not asked',
      { REDIS_RECONCILE_MS: '0' },
      'a batch answered 503 may have been counted: its reply was lost with the connection to Redis, and Redis could not be asked',
    ],
  ];
  for (const [name, env, warning] of cases) {
    await t.test(name, async (t) => {
      const redis = await startTestRedis(t);
      const relay = await startRedisRelay(t, redis.port);
      const { port, logs } = await startWeb(t, redis, { REDIS_TIMEOUT_MS: '250', REDIS_URL: relay.url, ...env });

      // A lost packet: Redis counts, the reply never arrives, the connection stays up past the deadline.
      relay.loseReplies();
      const answered = await get(port, '/', JSON_ACCEPT);
      assert.equal(answered.status, 503, answered.body);
      assert.equal(JSON.parse(answered.body).code, 'WEB_COUNTER_TIMEOUT');
      assert.equal(await redis.getNumber('visits'), 1, 'yet Redis counted it');
      relay.cut();

      await waitFor('the warning', () => logs.lines().some((line) => line['msg'] === warning));
      const [line] = logs.lines().filter((candidate) => candidate['msg'] === warning);
      assert.match(String(line?.['batch']), /^visits:batch:/, 'it names the batch');
      assert.equal(line?.['visits'], 1);
      if (name === 'asked') assert.equal(line?.['last'], 1, 'and its number');
      // The replica counts on after the reconnect.
      await waitFor('a visit to count again', async () => (await get(port, '/')).status === 200);
      assert.equal(await redis.getNumber('visits'), 2);
    });
  }
});

/** The outcomes the replica logged for batches whose reply was lost. */
function outcomes(logs: LogCapture): unknown[] {
  return logs.lines().filter((line) => 'outcome' in line).map((line) => line['outcome']);
}

function waitForCounter(redis: RedisServer, value: number): Promise<void> {
  return waitFor(`the counter to reach ${value}`, async () => (await redis.getNumber('visits')) === value);
}

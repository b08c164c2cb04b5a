// Graceful shutdown: close() (and SIGTERM in the real process) stops accepting at once, lets a
// GET / in flight finish and count, quits Redis, and the process exits 0.

import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startRedisRelay } from './redis-relay.js';
import { get, pauseRedisWrites, type Reply, spawnMain, startTestRedis, startWeb, visitsIn, waitFor } from './support.js';

// A generous Redis deadline keeps the visit in flight while the test shuts the replica down;
// a long grace makes a shutdown that waits for the grace instead of the request hit the test timeout.
const ENV = { REDIS_TIMEOUT_MS: '8000', SHUTDOWN_GRACE_MS: '60000' };

test('close() lets a GET / in flight finish and refuses new connections', { timeout: 15_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const { service, port } = await startWeb(t, redis, ENV);
  const agent = new Agent({ keepAlive: true });
  t.after(() => agent.destroy());

  const paused = await pauseRedisWrites(redis);
  const inFlight = get(port, '/', { agent });
  await paused.waiting(1);

  const closed = service.close();
  assert.equal(service.close(), closed, 'close() is idempotent');
  await assert.rejects(get(port, '/healthz'), { code: 'ECONNREFUSED' });

  await paused.unpause();
  const reply = await inFlight;
  assert.equal(reply.status, 200);
  assert.equal(visitsIn(reply.body), 1);
  // The keep-alive connection is ended after the answer, so nothing holds the close open.
  assert.equal(reply.headers['connection'], 'close');
  await closed;
  assert.equal(await redis.getNumber('visits'), 1);
  assert.equal(service.server.listening, false);
});

test('SIGTERM: the process finishes the request in flight, quits Redis and exits 0, a second SIGTERM notwithstanding', { timeout: 20_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const main = spawnMain(t, { ...ENV, PORT: '0', HOST: '127.0.0.1', REDIS_URL: redis.url, INSTANCE_NAME: 'test-host', LOG_FORMAT: 'json', LOG_LEVEL: 'info' });
  let port = 0;
  await waitFor('the replica to listen', () => {
    const line = main.logLines().find((candidate) => candidate['msg'] === `web replica listening on port ${String(candidate['port'])}`);
    port = typeof line?.['port'] === 'number' ? line['port'] : 0;
    return port > 0;
  });
  await waitFor('the replica to be ready', async () => (await get(port, '/readyz')).status === 200);
  assert.equal(visitsIn((await get(port, '/')).body), 1);

  const agent = new Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  const paused = await pauseRedisWrites(redis);
  const inFlight = get(port, '/', { agent });
  await paused.waiting(1);

  main.child.kill('SIGTERM');
  await waitFor('the replica to log the shutdown', () => main.logLines().some((line) => line['signal'] === 'SIGTERM'));
  // An impatient second signal (docker stop twice, Ctrl-C twice) changes nothing: Node's default
  // would kill the process at once and cut the visit in flight.
  main.child.kill('SIGTERM');
  await waitFor('the second signal to be logged', () => main.logLines().some((line) => line['level'] === 40 && String(line['msg']).startsWith('already shutting down')));
  // The log line comes just before the listener closes, so poll until connections are refused.
  await waitFor('the replica to refuse new connections', () =>
    get(port, '/healthz').then(
      () => false,
      (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
    ),
  );

  await paused.unpause();
  const reply = await inFlight;
  assert.equal(reply.status, 200);
  assert.equal(visitsIn(reply.body), 2);
  assert.deepEqual(await main.exited, { code: 0, signal: null });
  assert.equal(main.logLines().at(-1)?.['msg'], 'stopped');
  assert.equal(main.stderr(), '');
  assert.equal(await redis.getNumber('visits'), 2);
});

test('close() finishes even when Redis is frozen and never answers QUIT', { timeout: 10_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const { service, port } = await startWeb(t, redis, { REDIS_TIMEOUT_MS: '200' });
  redis.pause();
  t.after(() => redis.resume());
  await service.close();
  await assert.rejects(get(port, '/healthz'), { code: 'ECONNREFUSED' });
});

test('a grace period shorter than the wait for Redis: a visit still waiting is answered 503 "outcome unknown", not reset', { timeout: 30_000 }, async (t) => {
  const graceMs = 1000;
  const cases: Array<[string, string]> = [
    // Its reply lost with the connection, Redis not back: held for REDIS_RECONCILE_MS (5 s).
    ['held for reconciliation', 'The connection to Redis closed while this visit was being counted, so it may or may not have been counted; please try again.'],
    // Sent to a Redis that holds it (CLIENT PAUSE): waiting for REDIS_TIMEOUT_MS (8 s).
    ['in flight', 'This replica shut down while this visit was being counted, so it may or may not have been counted; please try again.'],
  ];
  for (const [name, error] of cases) {
    await t.test(name, async (t) => {
      const redis = await startTestRedis(t);
      const relay = await startRedisRelay(t, redis.port);
      const { service, port } = await startWeb(t, redis, { ...ENV, REDIS_URL: relay.url, REDIS_RECONCILE_MS: '5000', SHUTDOWN_GRACE_MS: String(graceMs) });
      let paused: Awaited<ReturnType<typeof pauseRedisWrites>> | undefined;
      let reply: Promise<Reply>;
      if (name === 'in flight') {
        paused = await pauseRedisWrites(redis);
        t.after(() => paused?.unpause());
        reply = get(port, '/', { headers: { accept: 'application/json' } });
        await paused.waiting(1);
      } else {
        relay.loseReplies();
        reply = get(port, '/', { headers: { accept: 'application/json' } });
        await waitFor('the visit to count', async () => (await redis.getNumber('visits')) === 1);
        relay.refuse();
        relay.cut();
      }

      const started = Date.now();
      const closed = service.close();
      const answered = await reply;
      const ms = Date.now() - started;
      assert.equal(answered.status, 503, answered.body);
      assert.equal(answered.headers['retry-after'], '1');
      assert.deepEqual(JSON.parse(answered.body), { error, code: 'WEB_COUNTER_OUTCOME_UNKNOWN' });
      assert.ok(ms < graceMs + 500, `answered after ${ms} ms, within the ${graceMs} ms grace`);
      // The paused increment runs now, before its deadline: "may or may not" was the honest answer.
      await paused?.unpause();
      await closed;
      assert.equal(service.server.listening, false);
    });
  }
});

// A client that pipelines (straight to a replica; the balancer does not) during a shutdown: the
// answer under way ends the connection, so the visits queued behind it can never be answered,
// and they must not be counted either.
test('visits pipelined behind the answer that ends a connection at shutdown are not counted', { timeout: 15_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const { service, port } = await startWeb(t, redis, ENV);
  const paused = await pauseRedisWrites(redis);
  t.after(() => paused.unpause());

  const socket = connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  let received = '';
  socket.on('data', (data) => (received += data.toString()));
  const socketClosed = new Promise((resolve) => socket.on('close', resolve));
  let requests = 0;
  service.server.on('request', () => (requests += 1));

  socket.write('GET / HTTP/1.1\r\nHost: replica\r\n\r\n');
  await paused.waiting(1); // the first visit is sent, and held by Redis
  const closed = service.close();
  socket.write('GET / HTTP/1.1\r\nHost: replica\r\n\r\nGET / HTTP/1.1\r\nHost: replica\r\n\r\n');
  await waitFor('the replica to read the two pipelined visits', () => requests === 3);
  // Their turn to be sent comes and goes.
  await new Promise((resolve) => setImmediate(() => setImmediate(() => setImmediate(resolve))));
  await paused.unpause();

  await socketClosed;
  const answers = [...received.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((match) => Number(match[1]));
  assert.deepEqual(answers, [200], received);
  assert.match(received, /\r\nconnection: close\r\n/i);
  assert.equal(visitsIn(received.slice(received.indexOf('\r\n\r\n') + 4)), 1);
  await closed;
  assert.equal(await redis.getNumber('visits'), 1, 'the counter equals the visits answered');
});

// REDIS_URL's database: visits are counted there and nowhere else. When Redis refuses to
// select it (a database the server does not have), ioredis carries on in database 0; the
// replica instead refuses visits (503, /readyz 503) and logs one error naming REDIS_URL and
// the database, and not one visit lands in database 0 — not at start-up, not after a reconnect.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RedisServer } from '@visit-counter/shared/test-helpers';
import { get, startTestRedis, startWeb, visitsIn, waitFor, type Reply } from './support.js';

const UNREACHABLE = 'The visit counter is unavailable because Redis cannot be reached; please try again shortly.\n';

/** The integer at `key` in database `db` (0 when unset), read in one script so that no connection changes database. */
async function numberIn(redis: RedisServer, db: number, key: string): Promise<number> {
  const reply = await redis.command('EVAL', `redis.call('SELECT', ARGV[1]) return tonumber(redis.call('GET', KEYS[1]) or '0')`, '1', key, String(db));
  assert.match(reply, /^:\d+\r\n$/, reply);
  return Number(reply.slice(1));
}

test('REDIS_URL names a database Redis does not have: 503, one error naming it, and nothing counted in database 0', { timeout: 30_000 }, async (t) => {
  const redis = await startTestRedis(t);
  // A default Redis has databases 0-15.
  const { port, logs } = await startWeb(t, redis, { REDIS_URL: `${redis.url}/16` }, { waitReady: false });

  // Visits from the first moment on, while ioredis connects, selects and runs its ready check.
  const answers: Reply[] = [];
  const refused = (): boolean => logs.lines().some((line) => line['redis'] === 'refused the database');
  while (!refused()) answers.push(await get(port, '/'));
  for (let i = 0; i < 5; i++) answers.push(await get(port, '/'));
  const readyz = await get(port, '/readyz');
  assert.equal(readyz.status, 503);
  assert.equal(readyz.body, UNREACHABLE);
  // HEAD / has the status GET / has.
  assert.equal((await get(port, '/', { method: 'HEAD' })).status, 503);

  // Checked before the restart too: the test Redis keeps no data across one.
  assert.equal(await numberIn(redis, 0, 'visits'), 0, 'not one visit counted in database 0 before the reconnect');
  // A reconnect (Redis restarted) selects again, and is refused again.
  await redis.restart();
  const before = logs.lines().filter((line) => line['redis'] === 'refused the database').length;
  await waitFor('the refusal after the reconnect', () => logs.lines().filter((line) => line['redis'] === 'refused the database').length > before);
  for (let i = 0; i < 5; i++) answers.push(await get(port, '/'));

  for (const answer of answers) {
    assert.equal(answer.status, 503, answer.body);
    assert.equal(answer.body, UNREACHABLE);
  }
  assert.equal(await numberIn(redis, 0, 'visits'), 0, 'not one visit counted in database 0');
  const errors = logs.lines().filter((line) => line['level'] === 50);
  assert.equal(errors.length, 2, 'one error per connection, however many visits were refused');
  assert.equal(
    errors[0]?.['msg'],
    'REDIS_URL names database 16, but Redis refused to select it (ERR DB index is out of range): visits are refused until it can; check REDIS_URL and the server\'s "databases" setting',
  );
  assert.ok(!logs.lines().some((line) => line['msg'] === 'redis ready'), 'the replica never says it is ready');
});

test('REDIS_URL names database 5: visits are counted there, also after a reconnect, and never in database 0', { timeout: 30_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis, { REDIS_URL: `${redis.url}/5` });
  assert.equal(visitsIn((await get(port, '/')).body), 1);
  assert.equal(visitsIn((await get(port, '/')).body), 2);
  assert.equal(await numberIn(redis, 5, 'visits'), 2);
  assert.equal(await numberIn(redis, 0, 'visits'), 0);

  await redis.restart(); // data is not kept
  await waitFor('the replica to be ready again', async () => (await get(port, '/readyz')).status === 200);
  assert.equal(visitsIn((await get(port, '/')).body), 1);
  assert.equal(await numberIn(redis, 5, 'visits'), 1);
  assert.equal(await numberIn(redis, 0, 'visits'), 0);
});

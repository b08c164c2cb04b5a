// The test helper's real redis-server: it answers, it can be killed, frozen and brought
// back on the same port, and a missing binary fails at once with how to install it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redisCommand, startRedis } from '@visit-counter/shared/test-helpers';

test('startRedis runs a real redis-server on a free port that answers commands', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
  assert.equal(await redis.command('PING'), '+PONG\r\n');
  assert.equal(await redis.getNumber('visits'), 0);
  assert.equal(await redis.command('INCRBY', 'visits', '41'), ':41\r\n');
  assert.equal(await redis.getNumber('visits'), 41);
  assert.equal(await redis.command('GET', 'visits'), '$2\r\n41\r\n');
});

test('kill stops answering and start brings an empty Redis back on the same port', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  await redis.command('SET', 'visits', '5');
  await redis.kill();
  await assert.rejects(redis.command('PING'), { code: 'ECONNREFUSED' });
  await redis.start();
  assert.equal(await redis.command('PING'), '+PONG\r\n');
  assert.equal(await redis.getNumber('visits'), 0);
});

test('pause freezes Redis without closing it, and resume lets it answer again', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  redis.pause();
  await assert.rejects(redisCommand(redis.port, ['PING'], 300), /timed out/);
  redis.resume();
  assert.equal(await redis.command('PING'), '+PONG\r\n');
});

test('stop is safe to call twice and leaves nothing listening', async () => {
  const redis = await startRedis();
  await redis.stop();
  await redis.stop();
  await assert.rejects(redisCommand(redis.port, ['PING'], 1000), { code: 'ECONNREFUSED' });
});

test('without redis-server on PATH the helper fails at once and says how to install it', async (t) => {
  const path = process.env['PATH'];
  t.after(() => {
    process.env['PATH'] = path;
  });
  process.env['PATH'] = '/nonexistent';
  await assert.rejects(startRedis(), (error: Error) => {
    assert.match(error.message, /redis-server was not found on PATH/);
    assert.match(error.message, /apt-get install redis-server/);
    return true;
  });
});

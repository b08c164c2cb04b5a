// MESSAGE_TEMPLATE and INSTANCE_NAME change the wording a replica answers with: other
// services' phrasings, with this replica's own count and port, are had by configuration.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, startTestRedis, startWeb } from './support.js';

const REQUEST_COUNT = 'You are talking to instance {hostname}:{port}.\nThis is request {instanceVisits} to this instance and request {visits} to the cluster.';

test('a template with {hostname}, {port}, {instanceVisits} and {visits} is filled per replica', async (t) => {
  const redis = await startTestRedis(t);
  const a = await startWeb(t, redis, { MESSAGE_TEMPLATE: REQUEST_COUNT });
  const b = await startWeb(t, redis, { MESSAGE_TEMPLATE: REQUEST_COUNT });
  const expected = (port: number, instanceVisits: number, visits: number): string =>
    `You are talking to instance test-host:${port}.\nThis is request ${instanceVisits} to this instance and request ${visits} to the cluster.\n`;

  assert.equal((await get(a.port, '/')).body, expected(a.port, 1, 1));
  assert.equal((await get(a.port, '/')).body, expected(a.port, 2, 2));
  assert.equal((await get(b.port, '/')).body, expected(b.port, 1, 3));
  assert.equal((await get(a.port, '/')).body, expected(a.port, 3, 4));

  const json = JSON.parse((await get(b.port, '/', { headers: { accept: 'application/json' } })).body) as Record<string, unknown>;
  assert.deepEqual(json, { message: expected(b.port, 2, 5).trimEnd(), visits: 5, instanceVisits: 2, hostname: 'test-host' });
  assert.equal(await redis.getNumber('visits'), 5);
});

test('INSTANCE_NAME replaces the hostname everywhere it is shown', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis, { INSTANCE_NAME: 'web-7' });
  assert.equal((await get(port, '/')).body, "I've been visited 1 times, and my hostname is web-7\n");
  assert.equal((await get(port, '/host')).body, 'web-7\n');
  assert.equal(JSON.parse((await get(port, '/', { headers: { accept: 'application/json' } })).body).hostname, 'web-7');
});

test('REDIS_KEY chooses the key the counter lives under', async (t) => {
  const redis = await startTestRedis(t);
  await redis.command('SET', 'visits', '100');
  const { port } = await startWeb(t, redis, { REDIS_KEY: 'site:visits' });
  assert.equal((await get(port, '/')).body, "I've been visited 1 times, and my hostname is test-host\n");
  assert.equal(await redis.getNumber('site:visits'), 1);
  assert.equal(await redis.getNumber('visits'), 100);
});

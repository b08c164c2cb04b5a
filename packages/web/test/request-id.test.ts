// X-Request-Id: the id a client (or the balancer) sends comes back on the response, on
// success and on errors alike, and is the one in the access log.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, startTestRedis, startWeb, waitFor } from './support.js';

test('X-Request-Id is echoed on every response and logged with the request', async (t) => {
  const redis = await startTestRedis(t);
  const { port, logs } = await startWeb(t, redis);
  const cases: Array<[string, string, number]> = [
    ['GET', '/', 200],
    ['GET', '/nowhere', 404],
    ['PUT', '/', 405],
  ];
  for (const [method, path, status] of cases) {
    const id = `id-${method}-${path}`;
    const reply = await get(port, path, { method, headers: { 'x-request-id': id } });
    assert.equal(reply.status, status);
    assert.equal(reply.headers['x-request-id'], id, `${method} ${path}`);
    await waitFor(`the access line of ${id}`, () => logs.lines().some((line) => line['requestId'] === id && line['path'] === path));
  }
});

test('without X-Request-Id the response carries none', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  const reply = await get(port, '/');
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-request-id'], undefined);
});

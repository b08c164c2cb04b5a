// One access log line per request (pino JSON, read back from an injected stream) with the
// backend, the status, the duration and the request id, including requests that failed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';

test('one access line per request with backend, status, durationMs and requestId', { timeout: 20_000 }, async (t) => {
  const [a, b] = await startBackends(t, ['a', 'b']);
  assert.ok(a && b);
  const lb = await startBalancer(t, { BACKENDS: `${a.id},${b.id}` });
  await waitForUp(lb, [a.id, b.id]);
  b.plan.push('reset');

  const given = await lb.client.get('/given?x=1', { 'x-request-id': 'req-given-1' });
  const generated = await lb.client.get('/generated');
  const again = await lb.client.get('/again', { 'x-request-id': 'req-again' });
  assert.deepEqual([given.status, generated.status, again.status], [200, 502, 200]);

  const access = lb.logs.lines().filter((line) => typeof line['status'] === 'number' && line['method'] !== undefined && line['path'] !== '/_lb/status');
  assert.equal(access.length, 3, `one line per request: ${JSON.stringify(access)}`);
  const [first, second, third] = access;
  assert.ok(first && second && third);

  assert.equal(first['path'], '/given?x=1');
  assert.equal(first['method'], 'GET');
  assert.equal(first['status'], 200);
  assert.equal(first['backend'], a.id);
  assert.equal(first['requestId'], 'req-given-1');
  assert.equal(typeof first['durationMs'], 'number');
  assert.ok((first['durationMs'] as number) >= 0);

  assert.equal(second['status'], 502);
  assert.equal(second['backend'], b.id);
  assert.equal(second['requestId'], generated.headers['x-request-id'], 'the generated id is the one the client got');
  assert.equal(second['upstreamError'], 'LB_UPSTREAM_FAILED');

  assert.equal(third['status'], 200);
  assert.equal(third['requestId'], 'req-again');
  assert.equal(third['backend'], a.id);
  assert.match(String(third['msg']), /"GET \/again HTTP\/1\.1" 200/);
});

test('a request no backend could take is logged with its status and id', { timeout: 20_000 }, async (t) => {
  const [a] = await startBackends(t, ['a']);
  assert.ok(a);
  a.healthy = false;
  const lb = await startBalancer(t, { BACKENDS: a.id, HEALTH_INTERVAL_MS: '600000' });
  await lb.balancer.health.checkAll();

  const reply = await lb.client.get('/', { 'x-request-id': 'nobody-home' });
  assert.equal(reply.status, 503);
  const access = lb.logs.lines().filter((line) => line['requestId'] === 'nobody-home');
  assert.equal(access.length, 1);
  assert.equal(access[0]?.['status'], 503);
  assert.equal(access[0]?.['backend'], undefined, 'no backend took it');
});

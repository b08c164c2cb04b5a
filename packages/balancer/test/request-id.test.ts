// X-Request-Id: generated when the client sent none, passed to the backend and back to the
// client; a sane one from the client is kept; an unusable one is replaced.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a request id is generated when absent, sent to the backend and back', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);

  const first = await lb.client.get('/');
  const second = await lb.client.get('/');
  const id = String(first.headers['x-request-id']);
  assert.match(id, UUID);
  assert.equal(backend.requests[0]?.headers['x-request-id'], id, 'the backend got the same id');
  assert.notEqual(second.headers['x-request-id'], id, 'each request gets its own id');
  assert.equal(backend.requests[1]?.headers['x-request-id'], second.headers['x-request-id']);
});

test('a request id from the client is kept', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);

  const reply = await lb.client.get('/', { 'x-request-id': 'trace-4f2a/1' });
  assert.equal(reply.headers['x-request-id'], 'trace-4f2a/1');
  assert.equal(backend.requests[0]?.headers['x-request-id'], 'trace-4f2a/1');
});

test('an unusable request id (spaces, too long) is replaced by a new one', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);

  for (const given of ['has spaces in it', 'x'.repeat(201)]) {
    const reply = await lb.client.get('/', { 'x-request-id': given });
    assert.match(String(reply.headers['x-request-id']), UUID);
    assert.equal(backend.requests.at(-1)?.headers['x-request-id'], reply.headers['x-request-id']);
  }
});

test('the balancer\'s own error answers carry the request id too', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  backend.healthy = false;
  const lb = await startBalancer(t, { BACKENDS: backend.id, HEALTH_INTERVAL_MS: '600000' });
  await lb.balancer.health.checkAll();

  const given = await lb.client.get('/', { 'x-request-id': 'abc-123' });
  assert.equal(given.status, 503);
  assert.equal(given.headers['x-request-id'], 'abc-123');
  const generated = await lb.client.get('/');
  assert.match(String(generated.headers['x-request-id']), UUID);
});

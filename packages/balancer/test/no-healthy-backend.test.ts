// No healthy backend: the client gets 503 with Retry-After and one plain sentence, as text
// by default and as JSON when it asked for JSON. No backend is contacted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForStates } from './helpers/balancer.js';

const SENTENCE = 'No healthy backend is available to serve this request; please try again shortly.';

test('with every backend down the client gets 503, Retry-After and one sentence', { timeout: 20_000 }, async (t) => {
  const sick = await startBackend(t, 'sick');
  sick.healthy = false;
  const lb = await startBalancer(t, { BACKENDS: sick.id, HEALTH_FALL: '1', RETRY_AFTER_SECONDS: '7' });
  await waitForStates(lb, { [sick.id]: 'down' });

  const text = await lb.client.get('/');
  assert.equal(text.status, 503);
  assert.equal(text.headers['retry-after'], '7');
  assert.match(String(text.headers['content-type']), /^text\/plain/);
  assert.equal(text.body, SENTENCE + '\n');

  const json = await lb.client.get('/', { accept: 'application/json' });
  assert.equal(json.status, 503);
  assert.equal(json.headers['retry-after'], '7');
  assert.match(String(json.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(json.body), { error: SENTENCE, code: 'LB_NO_HEALTHY_BACKEND' });

  const head = await lb.client.request('/', { method: 'HEAD' });
  assert.equal(head.status, 503);
  assert.equal(head.body, '');

  assert.equal(sick.requests.length, 0, 'no request reached the sick backend');
});

test('a backend that has not passed its first check gets no traffic: 503', { timeout: 20_000 }, async (t) => {
  const fresh = await startBackend(t, 'fresh');
  fresh.healthy = false;
  // Default fall (3) and checks only on demand: the backend stays `unknown`.
  const lb = await startBalancer(t, { BACKENDS: fresh.id, HEALTH_INTERVAL_MS: '600000' });
  await lb.balancer.health.checkAll();
  assert.equal((await lb.status()).backends[0]?.state, 'unknown');

  const reply = await lb.client.get('/');
  assert.equal(reply.status, 503);
  assert.equal(reply.headers['retry-after'], '1', 'the default Retry-After is 1 second');
  assert.equal(reply.body, SENTENCE + '\n');
  assert.equal(fresh.requests.length, 0);
});

// GET /_lb/status tells an operator what the balancer sees: every backend with its state,
// since when, requests, failures, in-flight and last check; totals; uptime; memory; the
// effective configuration without secrets. Everything under /_lb is the balancer's: never forwarded.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { startBackends } from './helpers/fake-backend.js';
import { startBalancer, waitForStates, waitForUp } from './helpers/balancer.js';
import { waitFor } from './helpers/wait-for.js';

test('/_lb/status shows every backend, totals, uptime, memory and the configuration without secrets', { timeout: 20_000 }, async (t) => {
  const [a, b] = await startBackends(t, ['a', 'b']);
  assert.ok(a && b);
  b.healthy = false;
  const lb = await startBalancer(t, { BACKENDS: `${a.id},${b.id}`, HEALTH_FALL: '1', ADMIN_TOKEN: 'top-secret-token', HEALTH_PATH: '/readyz' });
  await waitForStates(lb, { [a.id]: 'up', [b.id]: 'down' });
  a.plan.push('ok', 'ok', 'hang');
  await lb.client.get('/');
  await lb.client.get('/');
  const pending = lb.client.get('/');
  await waitFor(() => a.heldCount === 1, { what: 'a request in flight' });

  const reply = await lb.client.get('/_lb/status');
  assert.equal(reply.status, 200);
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  assert.equal(reply.headers['cache-control'], 'no-store');
  assert.doesNotMatch(reply.body, /top-secret-token/, 'the admin token is a secret');
  const status = JSON.parse(reply.body);

  assert.equal(typeof status.uptimeSeconds, 'number');
  assert.ok(status.uptimeSeconds >= 0);
  assert.ok(!Number.isNaN(Date.parse(status.startedAt)));
  assert.equal(status.backends.length, 2);
  const [up, down] = status.backends;
  assert.equal(up.id, a.id);
  assert.equal(up.address, '127.0.0.1');
  assert.equal(up.port, a.port);
  assert.equal(up.state, 'up');
  assert.ok(!Number.isNaN(Date.parse(up.since)));
  assert.equal(up.requests, 3);
  assert.equal(up.failures, 0);
  assert.equal(up.inFlight, 1);
  assert.equal(up.lastCheck.ok, true);
  assert.equal(up.lastCheck.status, 200);
  assert.equal(typeof up.lastCheck.latencyMs, 'number');
  assert.ok(!Number.isNaN(Date.parse(up.lastCheck.at)));
  assert.equal(down.id, b.id);
  assert.equal(down.state, 'down');
  assert.equal(down.requests, 0);
  assert.equal(down.lastCheck.ok, false);
  assert.equal(down.lastCheck.status, 503);

  assert.equal(status.totals.backends, 2);
  assert.equal(status.totals.up, 1);
  assert.equal(status.totals.down, 1);
  assert.equal(status.totals.draining, 0);
  assert.equal(status.totals.unknown, 0);
  assert.equal(status.totals.requests, 3);
  assert.equal(status.totals.inFlight, 1);
  assert.deepEqual(status.totals.responses, { '2xx': 2 });
  assert.equal(status.totals.retries, 0);

  // The balancer runs in this test's process here: its memory is ours.
  assert.equal(status.memory.heapLimitBytes, getHeapStatistics().heap_size_limit);
  assert.ok(status.memory.heapUsedBytes > 0);
  assert.ok(status.memory.rssBytes > status.memory.heapUsedBytes, 'resident memory holds the heap in use and more');

  assert.equal(status.config.adminEnabled, true);
  assert.equal(status.config.adminToken, undefined);
  assert.deepEqual(status.config.backends, [
    { host: '127.0.0.1', port: a.port },
    { host: '127.0.0.1', port: b.port },
  ]);
  assert.equal(status.config.health.path, '/readyz');
  assert.equal(status.config.health.intervalMs, 50);
  assert.equal(status.config.health.fall, 1);
  assert.equal(status.config.trustProxy, false);

  a.releaseHeld();
  assert.equal((await pending).status, 200);
  const after = await lb.status();
  assert.equal(after.backends[0]?.inFlight, 0);
  assert.deepEqual(after.totals['responses'], { '2xx': 3 });
});

test('/_lb/* is answered by the balancer and never forwarded', { timeout: 20_000 }, async (t) => {
  const [a] = await startBackends(t, ['a']);
  assert.ok(a);
  const lb = await startBalancer(t, { BACKENDS: a.id });
  await waitForUp(lb, [a.id]);

  const status = await lb.client.get('/_lb/status?verbose=1');
  assert.equal(status.status, 200);
  assert.equal(status.headers['x-backend'], undefined);
  const healthz = await lb.client.get('/_lb/healthz');
  assert.equal(healthz.status, 200);
  assert.deepEqual(JSON.parse(healthz.body), { status: 'ok' });
  const head = await lb.client.request('/_lb/status', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');

  for (const path of ['/_lb', '/_lb/', '/_lb/nothing', '/_lb/backends', '/_lb?x=1']) {
    const reply = await lb.client.get(path);
    assert.equal(reply.status, 404, path);
    assert.match(reply.body, /^There is no balancer endpoint at ".*"; try \/_lb\/status\.\n$/, path);
  }
  const post = await lb.client.request('/_lb/status', { method: 'POST', body: '{}' });
  assert.equal(post.status, 405);
  assert.equal(post.headers['allow'], 'GET');
  const json = await lb.client.get('/_lb/nothing', { accept: 'application/json' });
  assert.equal(JSON.parse(json.body).code, 'LB_ADMIN_NOT_FOUND');

  assert.equal(a.requests.length, 0, 'the backend never saw a /_lb request');
  // Paths that only look alike are the backends' business.
  assert.equal((await lb.client.get('/_lbx')).headers['x-backend'], a.id);
  assert.deepEqual(a.requests.map((r) => r.url), ['/_lbx']);
});

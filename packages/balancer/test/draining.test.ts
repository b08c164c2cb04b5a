// Draining by an operator: `POST /_lb/backends/{id}/drain` with the admin token takes a
// backend out of the round robin while its requests in flight finish; undrain brings it
// back. Without the right token: 401 and nothing changes. With no ADMIN_TOKEN configured,
// admin actions are off: 403.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { servedBy, startBalancer, waitForUp } from './helpers/balancer.js';
import { waitFor } from './helpers/wait-for.js';

const TOKEN = 'correct horse battery staple';
const UNAUTHORIZED = 'This admin action needs a valid token in the Authorization header (Bearer).';

test('drain and undrain with the admin token', { timeout: 20_000 }, async (t) => {
  const [a, b] = await startBackends(t, ['a', 'b']);
  assert.ok(a && b);
  const lb = await startBalancer(t, { BACKENDS: `${a.id},${b.id}`, ADMIN_TOKEN: TOKEN });
  await waitForUp(lb, [a.id, b.id]);
  const auth = { authorization: `Bearer ${TOKEN}` };

  // A request in flight on `a` when it is drained.
  a.plan.push('hang');
  const inFlight = lb.client.get('/long');
  await waitFor(() => a.heldCount === 1, { what: 'the request to hang on a' });

  const drained = await lb.client.request(`/_lb/backends/${encodeURIComponent(a.id)}/drain`, { method: 'POST', headers: auth });
  assert.equal(drained.status, 200, drained.body);
  assert.equal(JSON.parse(drained.body).state, 'draining');
  const status = await lb.status();
  assert.equal(status.backends.find((x) => x.id === a.id)?.state, 'draining');
  assert.equal(status.totals['draining'], 1);

  assert.deepEqual(await servedBy(lb.client, 4), [b.id, b.id, b.id, b.id], 'a drained backend gets no new request');
  a.releaseHeld();
  const finished = await inFlight;
  assert.equal(finished.status, 200);
  assert.equal(finished.headers['x-backend'], a.id, 'the request in flight finished on the drained backend');
  assert.equal(a.requests.length, 1);
  // Draining by an operator is not a health problem: checks keep passing, the state stays.
  await lb.balancer.health.checkAll();
  assert.equal((await lb.status()).backends.find((x) => x.id === a.id)?.state, 'draining');

  const undrained = await lb.client.request(`/_lb/backends/${a.id}/undrain`, { method: 'POST', headers: auth });
  assert.equal(undrained.status, 200, undrained.body);
  assert.equal(JSON.parse(undrained.body).state, 'up');
  assert.deepEqual(new Set(await servedBy(lb.client, 4)), new Set([a.id, b.id]));
  assert.match(lb.logs.lines().map((l) => String(l['msg'])).join('\n'), new RegExp(`backend ${a.id} drained by an operator`));
});

test('without the right token: 401 and nothing changes', { timeout: 20_000 }, async (t) => {
  const [a, b] = await startBackends(t, ['a', 'b']);
  assert.ok(a && b);
  const lb = await startBalancer(t, { BACKENDS: `${a.id},${b.id}`, ADMIN_TOKEN: TOKEN });
  await waitForUp(lb, [a.id, b.id]);
  const path = `/_lb/backends/${a.id}/drain`;

  const attempts: Array<[string, Record<string, string>]> = [
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token' }],
    ['the token as a prefix', { authorization: `Bearer ${TOKEN}x` }],
    ['the token with another scheme', { authorization: `Basic ${TOKEN}` }],
    ['the token without a scheme', { authorization: TOKEN }],
  ];
  for (const [what, headers] of attempts) {
    const reply = await lb.client.request(path, { method: 'POST', headers });
    assert.equal(reply.status, 401, what);
    assert.equal(reply.body, UNAUTHORIZED + '\n', what);
    assert.match(String(reply.headers['www-authenticate']), /^Bearer /, what);
  }
  const json = await lb.client.request(path, { method: 'POST', headers: { accept: 'application/json' } });
  assert.equal(json.status, 401);
  assert.deepEqual(JSON.parse(json.body), { error: UNAUTHORIZED, code: 'LB_ADMIN_UNAUTHORIZED' });
  // An unknown backend is not revealed to someone without the token.
  const unknown = await lb.client.request('/_lb/backends/10.0.0.1:80/drain', { method: 'POST' });
  assert.equal(unknown.status, 401);

  const status = await lb.status();
  assert.deepEqual(status.backends.map((x) => x.state), ['up', 'up']);
  assert.deepEqual(new Set(await servedBy(lb.client, 4)), new Set([a.id, b.id]));
});

test('admin requests the balancer cannot act on: unknown backend, bad encoding, wrong method', { timeout: 20_000 }, async (t) => {
  const [a] = await startBackends(t, ['a']);
  assert.ok(a);
  const lb = await startBalancer(t, { BACKENDS: a.id, ADMIN_TOKEN: TOKEN });
  await waitForUp(lb, [a.id]);
  const auth = { authorization: `Bearer ${TOKEN}` };

  const unknown = await lb.client.request('/_lb/backends/10.0.0.1:80/drain', { method: 'POST', headers: auth });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body, 'There is no backend "10.0.0.1:80" in the pool.\n');

  // A malformed percent-encoding is an unknown backend, not a crash of the balancer.
  const garbled = await lb.client.request('/_lb/backends/%E0%A4%A/drain', { method: 'POST', headers: auth });
  assert.equal(garbled.status, 404);
  assert.match(garbled.body, /^There is no backend .* in the pool\.\n$/);

  const get = await lb.client.get(`/_lb/backends/${a.id}/drain`, auth);
  assert.equal(get.status, 405);
  assert.equal(get.headers['allow'], 'POST');
  assert.match(get.body, /^The method GET is not allowed on \/_lb\/backends\/.*\/drain; use POST\.\n$/);

  assert.equal((await lb.status()).backends[0]?.state, 'up');
  assert.equal((await lb.client.get('/')).status, 200, 'the balancer still serves');
  assert.equal(a.requests.length, 1, 'no admin request was forwarded');
});

test('with no ADMIN_TOKEN configured, admin actions are off: 403', { timeout: 20_000 }, async (t) => {
  const [a] = await startBackends(t, ['a']);
  assert.ok(a);
  const lb = await startBalancer(t, { BACKENDS: a.id });
  await waitForUp(lb, [a.id]);

  for (const headers of [{}, { authorization: 'Bearer anything' }, { authorization: 'Bearer ' }]) {
    const reply = await lb.client.request(`/_lb/backends/${a.id}/drain`, { method: 'POST', headers });
    assert.equal(reply.status, 403);
    assert.equal(reply.body, 'Admin actions are disabled because no ADMIN_TOKEN is configured.\n');
  }
  const status = await lb.status();
  assert.equal(status.backends[0]?.state, 'up');
  assert.equal(status.config['adminEnabled'], false);
  assert.equal((await lb.client.get('/')).headers['x-backend'], a.id);
});

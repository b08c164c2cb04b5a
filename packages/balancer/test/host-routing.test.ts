// Host-based routing (api.app.dev and app.app.dev served by different images,
// each scaled on its own): HOST_ROUTES sends each host name to its own backends, each
// balanced round-robin; other hosts go to the default backends, or get 404 without them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { waitFor } from './helpers/wait-for.js';

test('each host goes to its own backends, round-robin; other hosts to the default', { timeout: 20_000 }, async (t) => {
  const [api1, api2, app1, fallback] = await startBackends(t, ['api-1', 'api-2', 'app-1', 'default']);
  assert.ok(api1 && api2 && app1 && fallback);
  // api.app.dev names a DNS record (resolved by the test's resolver); app.app.dev an address.
  const lb = await startBalancer(
    t,
    {
      BACKENDS: fallback.id,
      HOST_ROUTES: `api.app.dev=api.internal:${api1.port},api2.internal:${api2.port};*.app.dev=${app1.id}`,
    },
    { resolve: async () => ['127.0.0.1'] },
  );
  await waitFor(
    async () => {
      const status = await lb.status();
      return status.backends.length === 4 && status.backends.every((b) => b.state === 'up');
    },
    { what: 'every backend of every route up' },
  );

  const served = async (host: string): Promise<string> => {
    const reply = await lb.client.get('/', { host });
    assert.equal(reply.status, 200, reply.body);
    return String(reply.headers['x-served-by']);
  };
  assert.deepEqual([await served('api.app.dev'), await served('api.app.dev'), await served('API.app.dev:80'), await served('api.app.dev')], [
    'api-1',
    'api-2',
    'api-1',
    'api-2',
  ]);
  assert.equal(await served('app.app.dev'), 'app-1');
  assert.equal(await served('www.app.dev'), 'app-1');
  assert.equal(await served('localhost'), 'default');
  // The backend sees the Host the client asked for.
  assert.equal(app1.requests.at(-1)?.headers.host, 'www.app.dev');

  const status = await lb.status();
  const routes = (status as unknown as { routes: Array<{ route: string; backends: number; up: number }> }).routes;
  assert.deepEqual(routes, [
    { route: '*', backends: 1, up: 1 },
    { route: 'api.app.dev', backends: 2, up: 2 },
    { route: '*.app.dev', backends: 1, up: 1 },
  ]);
});

test('a host with no route and no default backends gets 404 and one sentence', { timeout: 20_000 }, async (t) => {
  const [api] = await startBackends(t, ['api']);
  assert.ok(api);
  const lb = await startBalancer(t, { HOST_ROUTES: `api.app.dev=${api.id}` });
  await waitForUp(lb, [api.id]);

  const routed = await lb.client.get('/', { host: 'api.app.dev' });
  assert.equal(routed.status, 200);
  const unknown = await lb.client.get('/', { host: 'other.dev' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body, 'No backends are configured for the host "other.dev".\n');
  const json = await lb.client.get('/', { host: 'other.dev', accept: 'application/json' });
  assert.deepEqual(JSON.parse(json.body), { error: 'No backends are configured for the host "other.dev".', code: 'LB_NO_ROUTE' });
  assert.equal(api.requests.length, 1, 'the unrouted requests reached no backend');
});

test('HOST_ROUTES is validated at start-up', async () => {
  const { loadBalancerConfig } = await import('../src/config.js');
  const bad = ['api.app.dev', 'api.app.dev=', 'api.app.dev=api', 'a b=api:1', 'api.app.dev=api:1;api.app.dev=b:2', '*=api:1', 'x=y=z:1'];
  for (const value of bad) {
    assert.throws(() => loadBalancerConfig({ HOST_ROUTES: value }), /^ConfigError: HOST_ROUTES=".*": expected host=name:port/, value);
  }
  const config = loadBalancerConfig({ HOST_ROUTES: 'API.app.dev=api:3000,10.1.2.3:80; *.app.dev=web:3000' });
  assert.deepEqual(config.hostRoutes, [
    { pattern: 'api.app.dev', targets: [{ host: 'api', port: 3000 }, { host: '10.1.2.3', port: 80 }] },
    { pattern: '*.app.dev', targets: [{ host: 'web', port: 3000 }] },
  ]);
});

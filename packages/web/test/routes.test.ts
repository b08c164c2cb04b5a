// Every route of a web replica on a real server and a real Redis: what each answers, and
// that only GET / ever moves the counter.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOSTNAME, get, startTestRedis, startWeb } from './support.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

test('GET / counts a visit and answers the count and the hostname as plain text', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  for (const visits of [1, 2, 3]) {
    const reply = await get(port, '/', { headers: { accept: '*/*' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(reply.headers['cache-control'], 'no-store');
    assert.equal(reply.body, `I've been visited ${visits} times, and my hostname is ${HOSTNAME}\n`);
  }
  assert.equal(await redis.getNumber('visits'), 3);
});

test('GET / with Accept: application/json answers the message, both counts and the hostname', async (t) => {
  const redis = await startTestRedis(t);
  await redis.command('SET', 'visits', '41');
  const { port } = await startWeb(t, redis);
  const reply = await get(port, '/', { headers: { accept: 'application/json' } });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual(JSON.parse(reply.body), {
    message: `I've been visited 42 times, and my hostname is ${HOSTNAME}`,
    visits: 42,
    instanceVisits: 1,
    hostname: HOSTNAME,
  });
  assert.equal(await redis.getNumber('visits'), 42);
});

test('GET / from a browser answers a small HTML page', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  const reply = await get(port, '/', { headers: { accept: BROWSER } });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(reply.body, /^<!DOCTYPE html>/);
  assert.ok(reply.body.includes(`<p>I&#39;ve been visited 1 times, and my hostname is ${HOSTNAME}</p>`), reply.body);
});

test('HEAD / answers the headers of GET / without a body and without counting', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  for (let i = 0; i < 3; i++) {
    const reply = await get(port, '/', { method: 'HEAD' });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(reply.body, '');
  }
  assert.equal(await redis.getNumber('visits'), 0);
  assert.equal((await get(port, '/')).body, `I've been visited 1 times, and my hostname is ${HOSTNAME}\n`);
});

test('paths other than / answer 404 with a sentence and never count', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  const cases: Array<[string, string]> = [
    ['/favicon.ico', 'There is nothing at "/favicon.ico"; try / or /host or /date.\n'],
    ['/robots.txt', 'There is nothing at "/robots.txt"; try / or /host or /date.\n'],
    ['/index.html', 'There is nothing at "/index.html"; try / or /host or /date.\n'],
    ['/host/', 'There is nothing at "/host/"; try / or /host or /date.\n'],
  ];
  for (const [path, body] of cases) {
    for (const method of ['GET', 'HEAD']) {
      const reply = await get(port, path, { method });
      assert.equal(reply.status, 404, `${method} ${path}`);
      assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(reply.body, method === 'HEAD' ? '' : body, `${method} ${path}`);
    }
  }
  assert.equal(await redis.getNumber('visits'), 0);
});

test('other methods on a known path answer 405 with Allow and never count', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  const cases: Array<[string, string]> = [
    ['POST', '/'],
    ['PUT', '/'],
    ['DELETE', '/'],
    ['PATCH', '/'],
    ['OPTIONS', '/'],
    ['POST', '/host'],
    ['DELETE', '/date'],
    ['POST', '/healthz'],
    ['POST', '/readyz'],
  ];
  for (const [method, path] of cases) {
    const reply = await get(port, path, { method });
    assert.equal(reply.status, 405, `${method} ${path}`);
    assert.equal(reply.headers['allow'], 'GET, HEAD', `${method} ${path}`);
    assert.equal(reply.body, `The method ${method} is not allowed on ${path}; use GET or HEAD.\n`);
  }
  assert.equal(await redis.getNumber('visits'), 0);
});

test('GET / with a query string still counts one visit', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  assert.equal((await get(port, '/?utm_source=test')).body, `I've been visited 1 times, and my hostname is ${HOSTNAME}\n`);
  assert.equal(await redis.getNumber('visits'), 1);
});

test('GET /host answers the hostname in the format asked for', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  const text = await get(port, '/host');
  assert.equal(text.status, 200);
  assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(text.body, `${HOSTNAME}\n`);
  assert.deepEqual(JSON.parse((await get(port, '/host', { headers: { accept: 'application/json' } })).body), { hostname: HOSTNAME });
  assert.equal(await redis.getNumber('visits'), 0);
});

test('GET /date answers the current UTC date and time in ISO 8601', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  const before = Date.now();
  const text = await get(port, '/date');
  const after = Date.now();
  assert.equal(text.status, 200);
  assert.match(text.body, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\n$/);
  const shown = Date.parse(text.body.trim());
  assert.ok(shown >= before - 1000 && shown <= after + 1000, `${text.body.trim()} is not now`);

  const json = JSON.parse((await get(port, '/date', { headers: { accept: 'application/json' } })).body) as { date: string };
  assert.equal(new Date(json.date).toISOString(), json.date);
  assert.equal(await redis.getNumber('visits'), 0);
});

test('GET /healthz and /readyz answer 200 while Redis is up, and never count', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  const healthz = await get(port, '/healthz');
  assert.equal(healthz.status, 200);
  assert.equal(healthz.body, 'ok\n');
  const readyz = await get(port, '/readyz');
  assert.equal(readyz.status, 200);
  assert.equal(readyz.body, 'ready\n');
  assert.deepEqual(JSON.parse((await get(port, '/readyz', { headers: { accept: 'application/json' } })).body), { status: 'ready' });
  assert.equal(await redis.getNumber('visits'), 0);
});

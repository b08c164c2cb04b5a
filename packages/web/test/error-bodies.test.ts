// Every error a client sees is one plain sentence, in the format the client asked for,
// with a stable code in JSON.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, startTestRedis, startWeb } from './support.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

test('404 and 405 are one sentence as text, JSON or HTML', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  const cases: Array<[string, string, number, string, string]> = [
    ['GET', '/missing', 404, 'WEB_NOT_FOUND', 'There is nothing at "/missing"; try / or /host or /date.'],
    ['POST', '/', 405, 'WEB_METHOD_NOT_ALLOWED', 'The method POST is not allowed on /; use GET or HEAD.'],
  ];
  for (const [method, path, status, code, sentence] of cases) {
    const text = await get(port, path, { method });
    assert.equal(text.status, status);
    assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(text.headers['cache-control'], 'no-store');
    assert.equal(text.body, `${sentence}\n`);

    const json = await get(port, path, { method, headers: { accept: 'application/json' } });
    assert.equal(json.status, status);
    assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(json.body), { error: sentence, code });

    const html = await get(port, path, { method, headers: { accept: BROWSER } });
    assert.equal(html.status, status);
    assert.equal(html.headers['content-type'], 'text/html; charset=utf-8');
    assert.ok(html.body.includes('<p>'), html.body);
  }
});

test('a path with markup in it is escaped in the HTML error page', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  const html = await get(port, '/<script>alert(1)</script>', { headers: { accept: BROWSER } });
  assert.equal(html.status, 404);
  assert.ok(!html.body.includes('<script>'), html.body);
  assert.ok(html.body.includes('&#60;script&#62;'), html.body);
});

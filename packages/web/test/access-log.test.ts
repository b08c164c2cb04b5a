// One access log line per request, as a JSON line with the method, path, status, duration,
// remote address and the request id the client sent.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, startTestRedis, startWeb, waitFor } from './support.js';

test('each request writes exactly one access line with what happened', async (t) => {
  const redis = await startTestRedis(t);
  const { port, logs } = await startWeb(t, redis);
  const requests: Array<[string, string, number]> = [
    ['GET', '/', 200],
    ['HEAD', '/', 200],
    ['GET', '/host?x=1', 200],
    ['GET', '/favicon.ico', 404],
    ['POST', '/', 405],
  ];
  for (const [i, [method, path, status]] of requests.entries()) {
    const reply = await get(port, path, { method, headers: { 'x-request-id': `req-${i}` } });
    assert.equal(reply.status, status);
  }

  const accessLines = (): Array<Record<string, unknown>> =>
    logs.lines().filter((line) => typeof line['requestId'] === 'string' && String(line['requestId']).startsWith('req-'));
  await waitFor('every access line', () => accessLines().length >= requests.length);
  const lines = accessLines();
  assert.equal(lines.length, requests.length, JSON.stringify(lines));
  for (const [i, [method, path, status]] of requests.entries()) {
    const line = lines.find((candidate) => candidate['requestId'] === `req-${i}`);
    assert.ok(line, `no access line for req-${i}`);
    assert.equal(line['method'], method);
    assert.equal(line['path'], path);
    assert.equal(line['status'], status);
    assert.equal(line['remoteAddress'], '127.0.0.1');
    assert.equal(line['level'], 30);
    assert.equal(typeof line['durationMs'], 'number');
    assert.ok((line['durationMs'] as number) >= 0);
    assert.match(String(line['msg']), new RegExp(`^127\\.0\\.0\\.1 - - "${method} ${path.replace('?', '\\?')} HTTP/1\\.1" ${status} \\d+\\.\\dms$`));
  }
});

test('a request without X-Request-Id is still logged, with no request id', async (t) => {
  const redis = await startTestRedis(t);
  const { port, logs } = await startWeb(t, redis);
  assert.equal((await get(port, '/date')).status, 200);
  const dateLines = (): Array<Record<string, unknown>> => logs.lines().filter((line) => line['path'] === '/date');
  await waitFor('the access line', () => dateLines().length >= 1);
  assert.equal(dateLines().length, 1);
  assert.equal(dateLines()[0]?.['requestId'], undefined);
  assert.equal(dateLines()[0]?.['status'], 200);
});

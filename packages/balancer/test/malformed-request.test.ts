// A malformed request is cut off by Node's parser with 400 and one sentence; no backend sees
// it, and the balancer keeps serving.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { parseRawResponse, rawExchange } from './helpers/http-client.js';

const cases: Array<[string, string]> = [
  ['garbage instead of a request line', 'THIS IS NOT HTTP\r\n\r\n'],
  ['binary noise', '\x00\x01\x02\xff\xfe garbage \x7f\r\n\r\n'],
  ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n'],
  ['an invalid content-length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n'],
  ['both content-length and chunked', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
];

test('malformed requests get 400 with a sentence and the balancer keeps serving', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);

  for (const [what, bytes] of cases) {
    const reply = parseRawResponse(await rawExchange(t, lb.port, Buffer.from(bytes, 'latin1')));
    assert.equal(reply.status, 400, what);
    assert.equal(reply.body, 'The request is malformed.\n', what);
    assert.equal(reply.headers['connection'], 'close', what);
    const ok = await lb.client.get('/');
    assert.equal(ok.status, 200, `serving after ${what}`);
  }
  assert.equal(backend.requests.length, cases.length, 'only the good requests reached the backend');
  assert.ok(backend.requests.every((r) => r.url === '/' && r.method === 'GET'));
});

// Requests pipelined in front of the bad bytes reached a backend (and, behind the real
// replicas, counted a visit): each gets its own answer first, in order, then the 400.
const pipelined: Array<{ what: string; bytes: string; statuses: number[]; reached: string[] }> = [
  { what: 'a good request and a bad one in one packet', bytes: 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nBROKEN\r\n\r\n', statuses: [200, 400], reached: ['/a'] },
  {
    what: 'two good requests and a bad one in one packet',
    bytes: 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nbad header\r\n\r\n',
    statuses: [200, 200, 400],
    reached: ['/a', '/b'],
  },
  {
    what: 'bytes after a request that said Connection: close',
    bytes: 'GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n',
    statuses: [200],
    reached: ['/a'],
  },
];

for (const { what, bytes, statuses, reached } of pipelined) {
  test(`${what}: answers ${statuses.join(', ')} in order, then the connection closes`, async (t) => {
    const backend = await startBackend(t, 'web');
    const lb = await startBalancer(t, { BACKENDS: backend.id });
    await waitForUp(lb, [backend.id]);

    const raw = await rawExchange(t, lb.port, bytes);
    assert.deepEqual([...raw.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((match) => Number(match[1])), statuses, raw);
    if (statuses.at(-1) === 400) assert.ok(raw.endsWith('\r\n\r\nThe request is malformed.\n'), raw);
    assert.deepEqual(backend.requests.map((r) => r.url), reached);
  });
}

// What HTTP/1.1 asks of a request before any forwarding: one Host, a path as the target. An
// absolute-form target is taken as its path, with its authority as the Host (as nginx does).
test('absolute-form targets are forwarded as paths; two Host headers, a Host that is no host and OPTIONS * get 400 and reach no backend', async (t) => {
  const backend = await startBackend(t, 'web');
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);

  const absolute = parseRawResponse(await rawExchange(t, lb.port, 'GET http://abs.example/a?b=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  assert.equal(absolute.status, 200);
  assert.deepEqual(backend.requests.map((r) => [r.url, r.headers.host]), [['/a?b=1', 'abs.example']]);

  const status = parseRawResponse(await rawExchange(t, lb.port, 'GET http://abs.example/_lb/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  assert.equal(status.status, 200);
  assert.match(status.body, /"backends"/, 'the balancer answered /_lb/status itself');

  for (const [what, bytes, sentence] of [
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', 'The request has more than one Host header.\n'],
    // A plain GET: the fast path's own parser must refuse it too, not forward it.
    ['a Host with a space', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 'The Host header is not a host name or address with an optional port.\n'],
    ['OPTIONS *', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', 'The request target must be a path starting with "/" or an http:// URL.\n'],
  ] as const) {
    const reply = parseRawResponse(await rawExchange(t, lb.port, bytes));
    assert.equal(reply.status, 400, what);
    assert.equal(reply.body, sentence, what);
  }
  assert.equal(backend.requests.length, 1, 'only the absolute-form request reached the backend');
  const [seen] = (await lb.status()).backends;
  assert.equal(seen?.failures, 0, 'no request was held against the backend');
});

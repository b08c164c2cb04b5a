// Requests Node cannot parse: a malformed request gets 400, oversized headers 431, a client
// too slow to send its headers 408, each with a plain sentence; the replica keeps serving
// and never counts them.

import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { test } from 'node:test';
import { get, startTestRedis, startWeb, visitsIn, waitFor } from './support.js';

interface RawReply {
  statusLine: string;
  headers: string;
  body: string;
}

/** Writes `data` on a fresh connection and reads until the server closes it. */
function rawRequest(port: number, data: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = received.split('\r\n\r\n', 2);
      const [statusLine = '', ...headers] = head.split('\r\n');
      resolve({ statusLine, headers: headers.join('\n').toLowerCase(), body });
    });
    socket.write(data);
  });
}

test('malformed requests get 400 (an unknown version 505) with a sentence, and the replica keeps serving', { timeout: 20_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const { port, logs } = await startWeb(t, redis);
  const MALFORMED = ['HTTP/1.1 400 Bad Request', 'The request is malformed.\n'] as const;
  const malformed: Array<[string, readonly [string, string]]> = [
    ['GARBAGE\r\n\r\n', MALFORMED],
    ['GET / HTTP/9.9\r\nHost: x\r\n\r\n', ['HTTP/1.1 505 HTTP Version Not Supported', 'This server speaks HTTP/1.0 and HTTP/1.1 only.\n']],
    ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', MALFORMED],
    ['GET / HTTP/1.1\r\nBad Header Name: x\r\n\r\n', MALFORMED],
  ];
  for (const [request, [statusLine, body]] of malformed) {
    const reply = await rawRequest(port, request);
    assert.equal(reply.statusLine, statusLine, JSON.stringify(request));
    assert.match(reply.headers, /^content-type: text\/plain; charset=utf-8$/m);
    assert.equal(reply.body, body);
  }
  await waitFor('the client errors to be logged', () => logs.lines().filter((line) => line['status'] === 400 || line['status'] === 505).length === malformed.length);

  assert.equal(visitsIn((await get(port, '/')).body), 1);
  assert.equal(await redis.getNumber('visits'), 1);
});

test('headers over the limit get 431 with a sentence, and the replica keeps serving', async (t) => {
  const redis = await startTestRedis(t);
  const { port } = await startWeb(t, redis);
  // Over the default 16 KiB.
  const reply = await rawRequest(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
  assert.equal(reply.statusLine, 'HTTP/1.1 431 Request Header Fields Too Large');
  assert.equal(reply.body, 'The request headers are too large.\n');

  // Through a real HTTP client too, with a smaller configured limit.
  const small = await startWeb(t, redis, { MAX_HEADER_SIZE: '2048' });
  const viaClient = await get(small.port, '/', { headers: { cookie: 'c'.repeat(4096) } });
  assert.equal(viaClient.status, 431);
  assert.equal(viaClient.body, 'The request headers are too large.\n');
  assert.equal((await get(small.port, '/', { headers: { cookie: 'c'.repeat(512) } })).status, 200);

  assert.equal(visitsIn((await get(port, '/')).body), 2);
  assert.equal(await redis.getNumber('visits'), 2);
});

test('a client too slow to send its headers gets 408 with a sentence', { timeout: 20_000 }, async (t) => {
  const redis = await startTestRedis(t);
  // The request limit is a minute away: the 408 can only come from the headers limit.
  const { port } = await startWeb(t, redis, { CLIENT_HEADERS_TIMEOUT_MS: '300', CLIENT_REQUEST_TIMEOUT_MS: '60000' });
  // The head is never finished: the server has to give up on it.
  const reply = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n');
  assert.match(reply.statusLine, /^HTTP\/1\.1 408 /);
  assert.equal(reply.body, 'The request took too long to arrive.\n');
  assert.equal((await get(port, '/healthz')).status, 200);
  assert.equal(await redis.getNumber('visits'), 0);
});

// Status codes and headers from a backend reach the client untouched: an error page from a
// backend is the backend's answer, not the balancer's.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { openSocket, parseRawResponse, readUntil } from './helpers/http-client.js';
import { startRawBackend } from './helpers/raw-backend.js';

test('backend status codes, headers and bodies pass through', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web', {
    handler: (req, res) => {
      req.resume();
      const status = Number(req.url?.slice(1));
      res.writeHead(status, { 'content-type': 'text/plain', 'x-status': String(status), location: '/elsewhere', 'retry-after': '42' });
      res.end(status === 204 || status === 304 ? undefined : `backend said ${status}\n`);
    },
  });
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);

  for (const status of [200, 201, 204, 301, 304, 404, 418, 500, 502, 503]) {
    const reply = await lb.client.get(`/${status}`);
    assert.equal(reply.status, status);
    assert.equal(reply.headers['x-status'], String(status));
    assert.equal(reply.headers['location'], '/elsewhere');
    assert.equal(reply.headers['retry-after'], '42');
    assert.equal(reply.body, status === 204 || status === 304 ? '' : `backend said ${status}\n`);
    assert.equal(reply.headers['x-backend'], backend.id);
  }
  // A 5xx from a backend is an answer, not a failure of the backend.
  const status = await lb.status();
  assert.equal(status.backends[0]?.state, 'up');
  assert.equal(status.backends[0]?.failures, 0);
  assert.equal(status.totals['retries'], 0);
  assert.equal(backend.requests.length, 10, 'each request was sent once');
});

test('HEAD passes through without a body', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web', {
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '12' });
      res.end('twelve bytes');
    },
  });
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);
  const reply = await lb.client.request('/', { method: 'HEAD' });
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-length'], '12');
  assert.equal(reply.body, '');
  assert.equal(backend.requests[0]?.method, 'HEAD');
  // The connection is still usable afterwards.
  assert.equal((await lb.client.get('/')).body, 'twelve bytes');
});

test('a 304 with the Content-Length a 200 would have is a whole answer, and the connection stays', { timeout: 20_000 }, async (t) => {
  // RFC 9110 8.6 allows it; undici expects the announced body and reports a mismatch.
  const backend = await startRawBackend(t, 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 50\r\n\r\n');
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);

  const socket = await openSocket(t, lb.port);
  for (const path of ['/first', '/second']) {
    const head = readUntil(socket, '\r\n\r\n');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nIf-None-Match: "v1"\r\n\r\n`);
    const reply = parseRawResponse(await head);
    assert.equal(reply.status, 304, path);
    assert.equal(reply.headers['etag'], '"v1"', path);
  }
  assert.equal(socket.destroyed, false, 'the client connection is still open');
  const status = await lb.status();
  assert.equal(status.backends[0]?.failures, 0, 'not held against the backend');
  assert.deepEqual(status.totals.errors, {});
});

test('a 204 that announces a Content-Length is a whole answer without it, on both paths, and the connection stays', { timeout: 20_000 }, async (t) => {
  // RFC 9112 6.3: a 204 ends with its head, whatever its headers say; undici expects the body.
  const backend = await startRawBackend(t, 'HTTP/1.1 204 No Content\r\nX-Done: yes\r\nContent-Length: 5\r\n\r\n');
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);

  const socket = await openSocket(t, lb.port);
  // A plain GET takes the fast path, a DELETE the full one.
  for (const method of ['GET', 'DELETE', 'GET']) {
    const head = readUntil(socket, '\r\n\r\n');
    socket.write(`${method} /item HTTP/1.1\r\nHost: x\r\n\r\n`);
    const reply = parseRawResponse(await head);
    assert.equal(reply.status, 204, method);
    assert.equal(reply.headers['x-done'], 'yes', method);
    assert.equal(reply.headers['content-length'], undefined, `${method}: a 204 carries no Content-Length`);
  }
  assert.equal(socket.destroyed, false, 'the client connection is still open');
  const status = await lb.status();
  assert.equal(status.backends[0]?.failures, 0, 'not held against the backend');
  assert.deepEqual(status.totals.errors, {});
});

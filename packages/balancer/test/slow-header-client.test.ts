// A client that sends its request head too slowly (CLIENT_HEADERS_TIMEOUT_MS) or its whole
// request too slowly (CLIENT_REQUEST_TIMEOUT_MS) is cut off with 408 and one sentence, soon
// after the limit; the balancer keeps serving.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { openSocket, parseRawResponse, readUntilClose } from './helpers/http-client.js';

// Far below Node's 30 s default check interval, so a 408 that waits for it fails the test.
const GENEROUS_UPPER_BOUND_MS = 8_000;

test('a client that never finishes its headers gets 408', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  const lb = await startBalancer(t, { BACKENDS: backend.id, CLIENT_HEADERS_TIMEOUT_MS: '300', CLIENT_REQUEST_TIMEOUT_MS: '60000' });
  await waitForUp(lb, [backend.id]);

  const socket = await openSocket(t, lb.port);
  const answer = readUntilClose(socket, GENEROUS_UPPER_BOUND_MS);
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  const reply = parseRawResponse(await answer);
  assert.equal(reply.status, 408);
  // The request limit is a minute away: this 408 can only come from the headers limit.
  assert.equal(reply.body, 'The request took too long to arrive.\n');
  assert.equal(backend.requests.length, 0);

  assert.equal((await lb.client.get('/')).status, 200, 'the balancer keeps serving');
});

test('a client that never finishes its body gets 408', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web', {
    // Answers only once the whole body is in: it never is.
    handler: (req, res) => {
      req.resume();
      req.on('end', () => res.end('complete\n'));
    },
  });
  const lb = await startBalancer(t, { BACKENDS: backend.id, CLIENT_HEADERS_TIMEOUT_MS: '300', CLIENT_REQUEST_TIMEOUT_MS: '600' });
  await waitForUp(lb, [backend.id]);

  const socket = await openSocket(t, lb.port);
  const answer = readUntilClose(socket, GENEROUS_UPPER_BOUND_MS);
  socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b');
  const reply = parseRawResponse(await answer);
  assert.equal(reply.status, 408);
  assert.equal(reply.body, 'The request took too long to arrive.\n');

  assert.equal((await lb.client.get('/')).status, 200, 'the balancer keeps serving');
});

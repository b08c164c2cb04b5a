// Graceful shutdown: close() stops accepting at once, lets a request in flight finish (200,
// whole body), and resolves only after it; a tunnel that stays open (a WebSocket) is cut
// after SHUTDOWN_GRACE_MS rather than holding the process forever.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectionRefused } from '@visit-counter/shared/test-helpers';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { openSocket, parseRawResponse, readUntil, readUntilClose } from './helpers/http-client.js';
import { waitFor } from './helpers/wait-for.js';

test('close() with a request in flight: it completes with 200, then close() resolves', { timeout: 20_000 }, async (t) => {
  const slow = await startBackend(t, 'slow');
  const lb = await startBalancer(t, { BACKENDS: slow.id, SHUTDOWN_GRACE_MS: '10000' });
  await waitForUp(lb, [slow.id]);
  // A keep-alive connection that has served a request before: it must not hold the close up.
  assert.equal((await lb.client.get('/warm-up')).status, 200);

  slow.plan.push('hang');
  const events: string[] = [];
  const inFlight = lb.client.get('/slow').then((reply) => {
    events.push('response');
    return reply;
  });
  await waitFor(() => slow.heldCount === 1, { what: 'the request to reach the backend' });

  const closed = lb.balancer.close().then(() => events.push('closed'));
  await waitFor(() => connectionRefused(lb.port), { what: 'the balancer to stop accepting' });
  assert.deepEqual(events, [], 'close() waits for the request in flight');

  slow.releaseHeld();
  const reply = await inFlight;
  await closed;
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['connection'], 'close', 'the last answer of a closing balancer says so');
  assert.equal(reply.body, 'slow GET /slow\n');
  assert.equal(reply.headers['x-backend'], slow.id);
  assert.deepEqual(events, ['response', 'closed']);
  // Idempotent: a second close() is the same close.
  await lb.balancer.close();
});

test('close() with an open WebSocket tunnel finishes after the grace period', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'ws');
  backend.on('upgrade', (_req, socket) => {
    socket.on('error', () => socket.destroy());
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
  });
  // A grace period long enough to use the tunnel once more after close() began.
  const lb = await startBalancer(t, { BACKENDS: backend.id, SHUTDOWN_GRACE_MS: '3000' });
  await waitForUp(lb, [backend.id]);

  const socket = await openSocket(t, lb.port);
  const head = readUntil(socket, '\r\n\r\n');
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  assert.equal(parseRawResponse(await head).status, 101);
  const echoed = readUntil(socket, 'hello');
  socket.write('hello');
  await echoed;

  const cut = readUntilClose(socket, 10_000);
  let closed = false;
  const closing = lb.balancer.close().then(() => (closed = true));
  // Within the grace period the tunnel still carries bytes, and close() waits for it.
  const again = readUntil(socket, 'still here');
  socket.write('still here');
  await again;
  assert.equal(closed, false, 'close() waits for the open tunnel');
  await closing;
  await cut;
});

// A backend that takes an Upgrade handshake and then fails it: silent past
// UPSTREAM_HEADERS_TIMEOUT_MS (504 LB_UPSTREAM_TIMEOUT), or cutting the connection (502
// LB_UPSTREAM_FAILED). The client gets the error as a plain request would, its backend
// connection is closed, nothing stays in flight, and the handshake is not sent to another
// backend: it may have reached the first one.

import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { openSocket, parseRawResponse, rawExchange } from './helpers/http-client.js';
import { waitFor } from './helpers/wait-for.js';

const HANDSHAKE =
  'GET /chat HTTP/1.1\r\nHost: visits.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAccept: application/json\r\nX-Request-Id: ws-f\r\n\r\n';

const HEADERS_TIMEOUT_MS = 300;

const cases: Array<{ name: string; backend: (socket: Socket) => void; status: number; code: string; error: (id: string) => string; minMs?: number }> = [
  {
    name: 'never answers',
    backend: () => undefined,
    status: 504,
    code: 'LB_UPSTREAM_TIMEOUT',
    error: (id) => `The backend ${id} did not answer in time.`,
    minMs: HEADERS_TIMEOUT_MS,
  },
  {
    name: 'cuts the connection',
    backend: (socket) => socket.destroy(),
    status: 502,
    code: 'LB_UPSTREAM_FAILED',
    error: (id) => `The backend ${id} failed while handling this request.`,
  },
  {
    name: 'answers 101 naming no protocol',
    backend: (socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n'),
    status: 502,
    code: 'LB_UPSTREAM_FAILED',
    error: (id) => `The backend ${id} failed while handling this request.`,
  },
];

for (const c of cases) {
  test(`a backend that ${c.name} during the handshake: ${c.status} ${c.code}, its connection closed, not retried`, { timeout: 20_000 }, async (t) => {
    const [a, b] = await startBackends(t, ['a', 'b']);
    assert.ok(a && b);
    const open = new Set<Socket>();
    let handshakes = 0;
    for (const backend of [a, b]) {
      backend.on('upgrade', (_req, socket) => {
        handshakes += 1;
        open.add(socket);
        socket.once('close', () => open.delete(socket));
        socket.on('error', () => socket.destroy());
        // node:http keeps upgraded sockets half-open: the balancer closing its side is the end.
        socket.once('end', () => socket.end());
        c.backend(socket);
      });
    }
    const lb = await startBalancer(t, { BACKENDS: `${a.id},${b.id}`, UPSTREAM_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) });
    await waitForUp(lb, [a.id, b.id]);

    const started = Date.now();
    const answer = parseRawResponse(await rawExchange(t, lb.port, HANDSHAKE, 5_000));
    const elapsed = Date.now() - started;
    assert.equal(answer.status, c.status);
    assert.equal(answer.headers['x-request-id'], 'ws-f');
    assert.equal(answer.headers['connection'], 'close');
    assert.deepEqual(JSON.parse(answer.body), { error: c.error(a.id), code: c.code });
    if (c.minMs !== undefined) assert.ok(elapsed >= c.minMs - 20, `answered after ${elapsed} ms, not before the timeout`);

    assert.equal(handshakes, 1, 'the handshake went to one backend only');
    await waitFor(() => open.size === 0, { what: 'the backend connection to close' });
    const status = await lb.status();
    assert.deepEqual(status.backends.map((x) => x.inFlight), [0, 0]);
    assert.equal(status.backends.find((x) => x.id === a.id)?.failures, 1);
  });
}

test('a client that leaves while the backend has not answered its handshake frees the backend connection', { timeout: 20_000 }, async (t) => {
  const [a] = await startBackends(t, ['a']);
  assert.ok(a);
  const open = new Set<Socket>();
  a.on('upgrade', (_req, socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('end', () => socket.end());
  });
  const lb = await startBalancer(t, { BACKENDS: a.id });
  await waitForUp(lb, [a.id]);

  const client = await openSocket(t, lb.port);
  client.write(HANDSHAKE);
  await waitFor(() => open.size === 1, { what: 'the handshake to reach the backend' });
  assert.equal((await lb.status()).backends[0]?.inFlight, 1);
  client.destroy();
  await waitFor(() => open.size === 0, { what: 'the backend connection to close' });
  await waitFor(async () => (await lb.status()).backends[0]?.inFlight === 0, { what: 'in-flight back to 0' });
});

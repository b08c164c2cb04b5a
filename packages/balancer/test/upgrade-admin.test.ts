// The balancer's own endpoints under /_lb are never forwarded, not even as an Upgrade request:
// the balancer answers it as it answers the plain request, then ends the connection. An
// Upgrade request gets the checks every request gets, too (one Host, a path as the target).

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { parseRawResponse, rawExchange, readUntil } from './helpers/http-client.js';
import { waitFor } from './helpers/wait-for.js';

const UPGRADE = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

const HOST = 'Host: visits.example\r\n';

const cases: Array<{ name: string; head: string; host?: string; status: number; code: string | undefined }> = [
  { name: 'GET /_lb/status', head: 'GET /_lb/status HTTP/1.1', status: 200, code: undefined },
  { name: 'GET http://visits.example/_lb/healthz (absolute form)', head: 'GET http://visits.example/_lb/healthz HTTP/1.1', status: 200, code: undefined },
  { name: 'GET /chat with two Host headers', head: 'GET /chat HTTP/1.1\r\nHost: other.example', status: 400, code: 'HTTP_DUPLICATE_HOST' },
  { name: 'GET /chat without Host', head: 'GET /chat HTTP/1.1', host: '', status: 400, code: 'HTTP_MISSING_HOST' },
  { name: 'GET /_lb/healthz', head: 'GET /_lb/healthz HTTP/1.1', status: 200, code: undefined },
  { name: 'GET /_lb/unknown', head: 'GET /_lb/unknown HTTP/1.1', status: 404, code: 'LB_ADMIN_NOT_FOUND' },
  { name: 'POST /_lb/backends/x/drain with a wrong token', head: 'POST /_lb/backends/x/drain HTTP/1.1\r\nAuthorization: Bearer wrong', status: 401, code: 'LB_ADMIN_UNAUTHORIZED' },
];

for (const c of cases) {
  test(`${c.name} with Upgrade headers is answered by the balancer (${c.status}), not forwarded`, { timeout: 20_000 }, async (t) => {
    const backend = await startBackend(t, 'web');
    let handshakes = 0;
    backend.on('upgrade', (_req, socket: Socket) => {
      handshakes += 1;
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    });
    const lb = await startBalancer(t, { BACKENDS: backend.id, ADMIN_TOKEN: 'secret' });
    await waitForUp(lb, [backend.id]);

    const text = await rawExchange(t, lb.port, `${c.head}\r\n${c.host ?? HOST}${UPGRADE}Accept: application/json\r\n\r\n`);
    const answer = parseRawResponse(text);
    assert.equal(answer.status, c.status, text);
    assert.equal(answer.headers['connection'], 'close');
    const body = JSON.parse(answer.body) as Record<string, unknown>;
    if (c.code === undefined) {
      if (c.head.includes('status')) assert.deepEqual((body['backends'] as Array<{ id: string }>).map((x) => x.id), [backend.id]);
      else assert.deepEqual(body, { status: 'ok' });
    } else assert.equal(body['code'], c.code);
    assert.equal(handshakes, 0);
    assert.equal(backend.requests.length, 0);
  });
}

test('an admin answer to an Upgrade request does not keep a client that never closes, nor the shutdown', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  const lb = await startBalancer(t, { BACKENDS: backend.id, SHUTDOWN_GRACE_MS: '300' });
  await waitForUp(lb, [backend.id]);

  // The client reads its answer and then neither sends nor closes anything (allowHalfOpen: it
  // does not answer the balancer's end with its own).
  const socket = connect({ port: lb.port, host: '127.0.0.1', allowHalfOpen: true }).on('error', () => {});
  t.after(() => socket.destroy());
  const answer = readUntil(socket, 'ok');
  socket.write(`GET /_lb/healthz HTTP/1.1\r\n${HOST}${UPGRADE}\r\n`);
  assert.match(await answer, /^HTTP\/1\.1 200 /);
  const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('close() waited on the silent client past the grace period')), 4_000).unref());
  await Promise.race([lb.balancer.close(), deadline]);
});

// Node hands an upgrade request over while a request pipelined before it may still hold the
// connection: its answer comes first, then the upgrade request's.
const pipelined: Array<{ name: string; upgrade: string; statuses: number[] }> = [
  { name: 'a refused upgrade request (two Host headers)', upgrade: `GET /chat HTTP/1.1\r\nHost: other.example\r\n${HOST}${UPGRADE}\r\n`, statuses: [200, 400] },
  { name: 'an upgrade request to /_lb/healthz', upgrade: `GET /_lb/healthz HTTP/1.1\r\n${HOST}${UPGRADE}\r\n`, statuses: [200, 200] },
];

for (const c of pipelined) {
  test(`${c.name} pipelined behind a request: both answered, in order`, { timeout: 20_000 }, async (t) => {
    const backend = await startBackend(t, 'web');
    const lb = await startBalancer(t, { BACKENDS: backend.id });
    await waitForUp(lb, [backend.id]);

    const text = await rawExchange(t, lb.port, `GET /first HTTP/1.1\r\n${HOST}\r\n${c.upgrade}`);
    assert.deepEqual([...text.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((match) => Number(match[1])), c.statuses, text);
    assert.deepEqual(backend.requests.map((r) => r.url), ['/first']);
    assert.equal((await lb.client.get('/_lb/healthz')).status, 200, 'the balancer still serves');
  });
}

for (const c of [
  ...pipelined,
  { name: 'a WebSocket handshake', upgrade: `GET /chat HTTP/1.1\r\n${HOST}${UPGRADE}\r\n`, statuses: [] },
]) {
  test(`${c.name} pipelined behind a request, its client resetting the connection while it waits: the balancer serves on`, { timeout: 20_000 }, async (t) => {
    const backend = await startBackend(t, 'web');
    backend.on('upgrade', (_req, socket: Socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
    backend.plan.push('hang');
    const lb = await startBalancer(t, { BACKENDS: backend.id });
    await waitForUp(lb, [backend.id]);

    const socket = connect(lb.port, '127.0.0.1').on('error', () => {});
    t.after(() => socket.destroy());
    socket.write(`GET /first HTTP/1.1\r\n${HOST}\r\n${c.upgrade}`);
    await waitFor(() => backend.heldCount === 1, { what: 'the first request held at the backend' });
    socket.resetAndDestroy();
    backend.releaseHeld();
    await waitFor(async () => (await lb.status()).totals.inFlight === 0, { what: 'nothing in flight' });
    assert.equal((await lb.client.get('/after')).status, 200, 'the balancer still serves');
    assert.deepEqual(backend.requests.map((r) => r.url), ['/first', '/after'], 'the upgrade never reached the backend');
  });
}

test('an answer larger than the socket buffer, pipelined before an Upgrade request, arrives whole, then the upgrade answer', { timeout: 20_000 }, async (t) => {
  const size = 4 * 1024 * 1024;
  const backend = await startBackend(t, 'web', {
    handler: (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': size });
      res.end(Buffer.alloc(size, 'a'));
    },
  });
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);

  const text = await rawExchange(t, lb.port, `GET /big HTTP/1.1\r\n${HOST}\r\nGET /_lb/healthz HTTP/1.1\r\n${HOST}${UPGRADE}\r\n`);
  const second = text.indexOf('HTTP/1.1', size);
  assert.ok(second > size, `the whole body came first (${text.length} bytes in all)`);
  assert.equal(text.slice(text.indexOf('\r\n\r\n') + 4, second), 'a'.repeat(size));
  assert.match(text.slice(second), /^HTTP\/1\.1 200 [^]*"status":\s*"ok"/);
});

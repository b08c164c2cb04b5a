// WebSocket upgrades pass through: the handshake goes to a healthy backend with the
// forwarding headers, its 101 comes back, and then bytes flow both ways untouched.

import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { startBackends, type FakeBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForStates, waitForUp } from './helpers/balancer.js';
import { openSocket, parseRawResponse, rawExchange, readUntil, readUntilClose } from './helpers/http-client.js';
import { waitFor } from './helpers/wait-for.js';

const HANDSHAKE =
  'GET /chat HTTP/1.1\r\nHost: visits.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Request-Id: ws-1\r\n\r\n';

/** The backend accepts every upgrade and echoes every byte; it counts its open tunnels. */
function acceptUpgrades(backend: FakeBackend): { open: Set<Socket>; handshakes: Array<Record<string, string | string[] | undefined>> } {
  const open = new Set<Socket>();
  const handshakes: Array<Record<string, string | string[] | undefined>> = [];
  backend.on('upgrade', (req, socket, head) => {
    handshakes.push(req.headers);
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Tunnel: ${backend.name}\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    // node:http keeps upgraded sockets half-open; a peer that is done is done.
    socket.once('end', () => socket.end());
  });
  return { open, handshakes };
}

test('an Upgrade: websocket handshake passes through and bytes are echoed both ways', { timeout: 20_000 }, async (t) => {
  const [a, b] = await startBackends(t, ['a', 'b']);
  assert.ok(a && b);
  const tunnelsA = acceptUpgrades(a);
  const tunnelsB = acceptUpgrades(b);
  const lb = await startBalancer(t, { BACKENDS: `${a.id},${b.id}` });
  await waitForUp(lb, [a.id, b.id]);

  const socket = await openSocket(t, lb.port);
  const head = readUntil(socket, '\r\n\r\n');
  socket.write(HANDSHAKE);
  const response = parseRawResponse(await head);
  assert.equal(response.status, 101);
  assert.equal(response.headers['upgrade'], 'websocket');
  assert.equal(response.headers['x-tunnel'], 'a', 'the first backend in turn took it');

  const handshake = tunnelsA.handshakes[0];
  assert.ok(handshake);
  assert.equal(handshake['upgrade'], 'websocket');
  assert.match(String(handshake['connection']), /upgrade/i);
  assert.equal(handshake['sec-websocket-key'], 'dGhlIHNhbXBsZSBub25jZQ==');
  assert.equal(handshake['host'], 'visits.example');
  assert.equal(handshake['x-forwarded-for'], '127.0.0.1');
  assert.equal(handshake['x-request-id'], 'ws-1');
  assert.equal(tunnelsB.handshakes.length, 0);

  for (const message of ['ping-1', 'ping-2 with more bytes', '\u00ff\u0000binary']) {
    const back = readUntil(socket, message);
    socket.write(message);
    assert.equal(await back, message);
  }
  const status = await lb.status();
  assert.equal(status.backends.find((x) => x.id === a.id)?.inFlight, 1, 'an open tunnel is in flight');

  // The client hangs up: the tunnel closes on the backend side too.
  socket.end();
  await waitFor(() => tunnelsA.open.size === 0, { what: 'the backend side of the tunnel to close' });
  await waitFor(async () => (await lb.status()).backends.find((x) => x.id === a.id)?.inFlight === 0, { what: 'in-flight back to 0' });

  // The next upgrade takes the next backend in turn.
  const second = await openSocket(t, lb.port);
  const secondHead = readUntil(second, '\r\n\r\n');
  second.write(HANDSHAKE);
  assert.equal(parseRawResponse(await secondHead).headers['x-tunnel'], 'b');
});

/** The balancer's answer to HANDSHAKE (with `extra` header lines), read until it closes. */
async function refusal(t: TestContext, port: number, extra = ''): Promise<ReturnType<typeof parseRawResponse>> {
  return parseRawResponse(await rawExchange(t, port, HANDSHAKE.replace('\r\n\r\n', `\r\n${extra}\r\n`)));
}

test('an upgrade with no healthy backend gets 503 with Retry-After, a sentence or JSON, and its request id', { timeout: 20_000 }, async (t) => {
  const [a] = await startBackends(t, ['a']);
  assert.ok(a);
  a.healthy = false;
  const lb = await startBalancer(t, { BACKENDS: a.id, HEALTH_FALL: '1', RETRY_AFTER_SECONDS: '3' });
  await waitForStates(lb, { [a.id]: 'down' });

  const text = await refusal(t, lb.port);
  assert.equal(text.status, 503);
  assert.equal(text.headers['retry-after'], '3');
  assert.equal(text.headers['x-request-id'], 'ws-1');
  assert.equal(text.headers['connection'], 'close');
  assert.equal(text.body, 'No healthy backend is available to serve this request; please try again shortly.\n');

  const json = await refusal(t, lb.port, 'Accept: application/json\r\n');
  assert.equal(json.status, 503);
  assert.match(String(json.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(json.body), { error: 'No healthy backend is available to serve this request; please try again shortly.', code: 'LB_NO_HEALTHY_BACKEND' });
});

test('an upgrade for a host with no route gets 404 LB_NO_ROUTE, as a plain request does', { timeout: 20_000 }, async (t) => {
  const lb = await startBalancer(t, { HOST_ROUTES: 'api.example=127.0.0.1:1', HEALTH_INTERVAL_MS: '600000' });
  const json = await refusal(t, lb.port, 'Accept: application/json\r\n');
  assert.equal(json.status, 404);
  assert.equal(json.headers['x-request-id'], 'ws-1');
  assert.deepEqual(JSON.parse(json.body), { error: 'No backends are configured for the host "visits.example".', code: 'LB_NO_ROUTE' });
  const plain = await lb.client.get('/', { accept: 'application/json', host: 'visits.example' });
  assert.deepEqual(JSON.parse(plain.body), JSON.parse(json.body));
});

test('bytes the client sends right behind its handshake reach the backend through the tunnel, after the 101', { timeout: 20_000 }, async (t) => {
  const [a] = await startBackends(t, ['a']);
  assert.ok(a);
  const tunnels = acceptUpgrades(a);
  const lb = await startBalancer(t, { BACKENDS: a.id });
  await waitForUp(lb, [a.id]);

  const socket = await openSocket(t, lb.port);
  const echoed = readUntil(socket, 'early frame');
  socket.write(HANDSHAKE + 'early frame');
  const text = await echoed;
  assert.equal(parseRawResponse(text).status, 101);
  assert.ok(text.endsWith('\r\n\r\nearly frame'), `the 101 head, then the echo: ${JSON.stringify(text)}`);
  assert.equal(tunnels.handshakes.length, 1);
});

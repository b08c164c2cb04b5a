// An Upgrade the backend declines (any answer but 101) is an ordinary exchange: the client gets
// that answer, cleaned like any forwarded answer and with our X-Backend and X-Request-Id, and
// then its connection ends. It never becomes a tunnel: a request sent behind it on the same
// connection never reaches the backend (it would arrive unseen: the client's own
// X-Forwarded-For, no request id, no round robin).

import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { openSocket, rawExchange, readUntil, readUntilClose } from './helpers/http-client.js';
import { startRawBackend } from './helpers/raw-backend.js';
import { parseAnswers } from './helpers/raw-http.js';
import { waitFor } from './helpers/wait-for.js';

/** A request on the same connection, right behind the upgrade, that a tunnel would carry unseen. */
const SMUGGLED = 'GET /second HTTP/1.1\r\nHost: visits.example\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n';

/** The backend's answer head: hop-by-hop headers included, which must not reach the client. */
function declineWith(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/plain',
    connection: 'keep-alive, x-private',
    'keep-alive': 'timeout=5',
    upgrade: 'h2c',
    'x-private': 'for the next hop only',
    'x-request-id': 'backend-made',
    ...extra,
  });
  res.end(body);
}

const cases = [
  {
    name: 'a WebSocket handshake answered 200 (a backend with no WebSocket support)',
    head: 'GET /chat HTTP/1.1\r\nHost: visits.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Request-Id: up-1\r\n\r\n',
    status: 200,
    body: 'plain page\n',
  },
  {
    name: "curl --http2's Upgrade: h2c answered 200",
    head: 'GET / HTTP/1.1\r\nHost: visits.example\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nX-Request-Id: up-2\r\n\r\n',
    status: 200,
    body: 'visits: 1\n',
  },
  {
    name: 'a WebSocket handshake answered 426 with a length',
    head: 'GET /chat HTTP/1.1\r\nHost: visits.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Request-Id: up-3\r\n\r\n',
    status: 426,
    body: 'use another protocol\n',
    length: true,
  },
  {
    name: 'an Upgrade POST with a Content-Length body answered 200',
    head: 'POST /form HTTP/1.1\r\nHost: visits.example\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nContent-Length: 11\r\nX-Request-Id: up-4\r\n\r\nhello=world',
    status: 200,
    body: 'got hello=world\n',
    echoBody: 'hello=world',
  },
];

for (const c of cases) {
  test(`${c.name}: the client gets that answer, then the connection ends; no tunnel`, { timeout: 20_000 }, async (t) => {
    const backend = await startBackend(t, 'web');
    // No 'upgrade' listener: Node's server answers the request as a plain one, as such a backend does.
    const bodies: string[] = [];
    backend.handler = (req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        bodies.push(body);
        declineWith(res, c.status, c.body, c.length ? { 'content-length': String(Buffer.byteLength(c.body)) } : {});
      });
    };
    const lb = await startBalancer(t, { BACKENDS: backend.id });
    await waitForUp(lb, [backend.id]);

    // The next request goes once the answer's head is in, on the connection a tunnel would keep.
    const socket = await openSocket(t, lb.port);
    const whole = readUntilClose(socket, 5_000);
    const head = readUntil(socket, '\r\n\r\n');
    socket.write(c.head);
    await head;
    if (socket.writable) socket.write(SMUGGLED);
    const text = await whole;
    const answers = parseAnswers(Buffer.from(text, 'latin1'));
    assert.equal(answers.length, 1, `one answer, then the end: ${JSON.stringify(text)}`);
    const [answer] = answers;
    assert.ok(answer);
    assert.equal(answer.status, c.status);
    assert.equal(answer.body, c.body);
    assert.deepEqual(answer.headers.get('connection'), ['close']);
    assert.deepEqual(answer.headers.get('x-backend'), [backend.id]);
    assert.deepEqual(answer.headers.get('x-request-id'), [`up-${cases.indexOf(c) + 1}`], 'ours replaces the backend\'s');
    for (const hop of ['keep-alive', 'upgrade', 'x-private', 'transfer-encoding']) assert.equal(answer.headers.get(hop), undefined, `${hop} is not passed on`);
    if (c.length) assert.deepEqual(answer.headers.get('content-length'), [String(Buffer.byteLength(c.body))]);

    // The request behind it never reached the backend, and the exchange is over.
    await waitFor(async () => (await lb.status()).backends[0]?.inFlight === 0, { what: 'in-flight back to 0' });
    assert.deepEqual(backend.requests.map((r) => r.url), [c.head.split(' ')[1]]);
    assert.equal(backend.requests[0]?.headers['x-forwarded-for'], '127.0.0.1');
    assert.deepEqual(bodies, [c.echoBody ?? '']);
  });
}

test('an Upgrade request with a chunked body gets 501 LB_UPGRADE_BODY and reaches no backend', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);
  const head =
    'POST /form HTTP/1.1\r\nHost: visits.example\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nTransfer-Encoding: chunked\r\n' +
    'Accept: application/json\r\nX-Request-Id: up-te\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
  const [answer, ...more] = parseAnswers(Buffer.from(await rawExchange(t, lb.port, head), 'latin1'));
  assert.equal(more.length, 0);
  assert.ok(answer);
  assert.equal(answer.status, 501);
  assert.deepEqual(answer.headers.get('x-request-id'), ['up-te']);
  assert.deepEqual(JSON.parse(answer.body), {
    error: 'An Upgrade request with a chunked body (Transfer-Encoding) cannot be forwarded; send the body with a Content-Length.',
    code: 'LB_UPGRADE_BODY',
  });
  assert.equal(backend.requests.length, 0);
});

test('an Upgrade request\'s Content-Length body reaches the backend, and not one byte past it', { timeout: 20_000 }, async (t) => {
  const backend = await startRawBackend(t, 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n');
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);
  const head = 'POST /form HTTP/1.1\r\nHost: visits.example\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nContent-Length: 11\r\n\r\nhello=world';

  // The body and the request behind it in one packet: only the body is the backend's.
  const [answer, ...more] = parseAnswers(Buffer.from(await rawExchange(t, lb.port, head + SMUGGLED), 'latin1'));
  assert.equal(more.length, 0);
  assert.equal(answer?.status, 200);
  assert.equal(answer?.body, 'ok\n');
  await waitFor(() => backend.open.size === 0, { what: 'the backend connection to close' });
  assert.equal(backend.received.length, 1);
  assert.match(backend.received[0] ?? '', /^POST \/form HTTP\/1\.1\r\n[^]*\r\n\r\nhello=world$/);
});

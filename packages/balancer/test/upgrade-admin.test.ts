// The balancer's own endpoints under /_lb are never forwarded, not even as an Upgrade request:
// the balancer answers it as it answers the plain request, then ends the connection.

import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { parseRawResponse, rawExchange } from './helpers/http-client.js';

const UPGRADE = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

const cases = [
  { name: 'GET /_lb/status', head: 'GET /_lb/status HTTP/1.1', status: 200, code: undefined },
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

    const text = await rawExchange(t, lb.port, `${c.head}\r\nHost: visits.example\r\n${UPGRADE}Accept: application/json\r\n\r\n`);
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

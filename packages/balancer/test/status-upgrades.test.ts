// /_lb/status counts an Upgrade request as it counts any other: one request in the totals and
// at the backend that took it, its answer by status class (a tunnel established as 1xx, a
// declined upgrade by the backend's status), an error answer also by its code (a handshake
// that fails or times out against its backend, no route, no healthy backend, a chunked body),
// and a retry when the first backend could not be reached.

import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { startBackends, type FakeBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForStates, waitForUp } from './helpers/balancer.js';
import { openSocket, readUntil } from './helpers/http-client.js';
import { waitFor } from './helpers/wait-for.js';

const HANDSHAKE =
  'GET /chat HTTP/1.1\r\nHost: visits.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/** What the backend that takes the handshake does with it; undefined: it has no upgrade handler and answers 200. */
type Upgrade = ((socket: Socket) => void) | undefined;

const cases: Array<{
  name: string;
  upgrade: Upgrade;
  /** The first backend is gone (connection refused) but still up in the balancer's eyes. */
  firstRefuses?: boolean;
  /** No backend is up. */
  noneUp?: boolean;
  /** The backends serve only another host: the handshake's host has no route. */
  otherHostOnly?: boolean;
  /** The handshake sent instead of HANDSHAKE. */
  handshake?: string;
  env?: Record<string, string>;
  status: number;
  totals: { requests: number; retries: number; responses: Record<string, number>; errors: Record<string, number> };
  /** The backend that took the handshake: its requests and failures. */
  backend?: { requests: number; failures: number };
}> = [
  {
    name: 'a tunnel established',
    upgrade: (socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
    status: 101,
    totals: { requests: 1, retries: 0, responses: { '1xx': 1 }, errors: {} },
    backend: { requests: 1, failures: 0 },
  },
  {
    name: 'an upgrade the backend declines (200)',
    upgrade: undefined,
    status: 200,
    totals: { requests: 1, retries: 0, responses: { '2xx': 1 }, errors: {} },
    backend: { requests: 1, failures: 0 },
  },
  {
    name: 'a handshake the backend cuts',
    upgrade: (socket) => socket.destroy(),
    status: 502,
    totals: { requests: 1, retries: 0, responses: { '5xx': 1 }, errors: { LB_UPSTREAM_FAILED: 1 } },
    backend: { requests: 1, failures: 1 },
  },
  {
    name: 'a tunnel established on the second backend, the first refusing the connection',
    upgrade: (socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
    firstRefuses: true,
    status: 101,
    totals: { requests: 1, retries: 1, responses: { '1xx': 1 }, errors: {} },
    backend: { requests: 1, failures: 0 },
  },
  {
    name: 'a handshake the backend never answers (504 after UPSTREAM_HEADERS_TIMEOUT_MS)',
    upgrade: () => undefined,
    env: { UPSTREAM_HEADERS_TIMEOUT_MS: '300' },
    status: 504,
    totals: { requests: 1, retries: 0, responses: { '5xx': 1 }, errors: { LB_UPSTREAM_TIMEOUT: 1 } },
    backend: { requests: 1, failures: 1 },
  },
  {
    name: 'a host with no route',
    upgrade: undefined,
    otherHostOnly: true,
    status: 404,
    totals: { requests: 1, retries: 0, responses: { '4xx': 1 }, errors: { LB_NO_ROUTE: 1 } },
    backend: { requests: 0, failures: 0 },
  },
  {
    name: 'a chunked body (501)',
    upgrade: undefined,
    handshake: HANDSHAKE.replace('\r\n\r\n', '\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
    status: 501,
    totals: { requests: 1, retries: 0, responses: { '5xx': 1 }, errors: { LB_UPGRADE_BODY: 1 } },
    backend: { requests: 0, failures: 0 },
  },
  {
    name: 'no healthy backend',
    upgrade: undefined,
    noneUp: true,
    status: 503,
    totals: { requests: 1, retries: 0, responses: { '5xx': 1 }, errors: { LB_NO_HEALTHY_BACKEND: 1 } },
  },
];

for (const c of cases) {
  test(`/_lb/status counts ${c.name}: ${JSON.stringify(c.totals)}`, { timeout: 20_000 }, async (t) => {
    const [first, second] = await startBackends(t, ['first', 'second']);
    assert.ok(first && second);
    const taker: FakeBackend = c.firstRefuses ? second : first;
    const { upgrade } = c;
    if (upgrade) {
      taker.on('upgrade', (_req, socket: Socket) => {
        socket.on('error', () => socket.destroy());
        socket.once('end', () => socket.end());
        upgrade(socket);
      });
    }
    if (c.noneUp) first.healthy = false;
    // Checked once (no background checks): a stopped backend stays up until a request finds it gone.
    const ids = c.firstRefuses ? [first.id, second.id] : [first.id];
    const backends = c.otherHostOnly ? { HOST_ROUTES: `other.example=${ids.join(',')}` } : { BACKENDS: ids.join(',') };
    const lb = await startBalancer(t, { ...backends, HEALTH_INTERVAL_MS: c.noneUp ? '50' : '600000', HEALTH_FALL: '1', ...c.env });
    if (c.noneUp) await waitForStates(lb, { [first.id]: 'down' });
    else await waitForUp(lb, ids);
    if (c.firstRefuses) await first.stop();

    const socket = await openSocket(t, lb.port);
    const head = readUntil(socket, '\r\n\r\n');
    socket.write(c.handshake ?? HANDSHAKE);
    assert.match(await head, new RegExp(`^HTTP/1\\.1 ${c.status} `));

    const status = await waitFor(async () => {
      const current = await lb.status();
      return Object.keys(current.totals['responses'] as object).length > 0 ? current : undefined;
    }, { what: 'the answer counted' });
    const { requests, retries, responses, errors } = status.totals;
    assert.deepEqual({ requests, retries, responses, errors }, c.totals);
    if (c.backend) {
      const seen = status.backends.find((b) => b.id === taker.id);
      assert.deepEqual({ requests: seen?.requests, failures: seen?.failures }, c.backend);
    }
  });
}

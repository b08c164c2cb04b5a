// A WebSocket handshake pipelined behind an ordinary request that a backend answers slowly:
// the earlier answer comes first, whole, then the 101 and the tunnel, whether the handshake
// came in the same packet as the earlier request or while its answer was on its way.

import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { openSocket, readUntil } from './helpers/http-client.js';

const HOST = 'Host: visits.example\r\n';
const SLOW = `GET /slow HTTP/1.1\r\n${HOST}\r\n`;
const HANDSHAKE =
  `GET /chat HTTP/1.1\r\n${HOST}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

const cases: Array<{ name: string; chunks: string[] }> = [
  { name: 'in the same packet', chunks: [SLOW + HANDSHAKE] },
  { name: 'in the next packet, while the answer is awaited', chunks: [SLOW, HANDSHAKE] },
];

for (const c of cases) {
  test(`a WebSocket handshake behind a slow request, ${c.name}: the slow answer, then the 101 and the tunnel`, { timeout: 20_000 }, async (t) => {
    const backend = await startBackend(t, 'web', {
      handler: (req, res) => {
        req.resume();
        // Slow enough that the handshake is forwarded and answered long before it.
        setTimeout(() => res.end('the slow answer\n'), 500);
      },
    });
    backend.on('upgrade', (_req, socket: Socket) => {
      socket.on('error', () => socket.destroy());
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      socket.on('data', (chunk: Buffer) => socket.write(chunk));
    });
    const lb = await startBalancer(t, { BACKENDS: backend.id });
    await waitForUp(lb, [backend.id]);

    const socket = await openSocket(t, lb.port);
    const answers = readUntil(socket, 'Switching Protocols\r\n');
    for (const [i, chunk] of c.chunks.entries()) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      socket.write(chunk);
    }
    const text = await answers;
    assert.deepEqual([...text.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((match) => Number(match[1])), [200, 101], text);
    assert.ok(text.indexOf('the slow answer\n') < text.indexOf('HTTP/1.1 101'), text);
    const echo = readUntil(socket, 'ping');
    socket.write('ping');
    assert.match(await echo, /ping$/);
  });
}

// A visitor who gave up before the replica read its request is not counted. The case: the
// replica stalled (a long pause, a stopped process) while a client (a balancer's timeout,
// curl -m) sent GET / and closed; when the replica runs again it finds the request and the
// end of the connection waiting in the socket. Counting that visit would raise the counter
// for an answer nobody received, and the balancer had already answered 504.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { test } from 'node:test';
import { get, startTestRedis, startWeb, visitsIn, waitFor } from './support.js';

// The client runs in a child process while this one, the replica's, is blocked in spawnSync:
// like a stalled replica, it reads nothing until the client has sent the request and gone.
const CLIENT = `
const net = require('node:net');
const socket = net.connect(Number(process.argv[1]), '127.0.0.1', () => {
  socket.write('GET / HTTP/1.1\\r\\nHost: replica\\r\\n\\r\\n', () => {
    if (process.argv[2] === 'reset') socket.resetAndDestroy();
    else if (process.argv[2] === 'close') socket.destroy();
    else socket.end();
  });
});
// Gone once the FIN (or RST) is sent: the replica, blocked, answers nothing meanwhile.
socket.on('finish', () => process.exit(0));
socket.on('close', () => process.exit(0));
socket.on('error', () => process.exit(0));
setTimeout(() => process.exit(2), 5000);
`;

const CASES = [
  { name: 'half-closes (FIN after the request)', how: 'end' },
  { name: 'closes the connection', how: 'close' },
  { name: 'resets the connection', how: 'reset' },
];

for (const { name, how } of CASES) {
  test(`a visitor who ${name} before the replica read the request is not counted`, { timeout: 15_000 }, async (t) => {
    const redis = await startTestRedis(t);
    const { port, logs } = await startWeb(t, redis);

    const client = spawnSync(process.execPath, ['-e', CLIENT, String(port), how], { timeout: 10_000 });
    assert.equal(client.status, 0, `the client ran: ${client.stderr}`);

    // The replica did read that request (its access line says the client closed: 499).
    await waitFor('the access line of the departed visit', () =>
      logs.lines().some((line) => line['path'] === '/' && line['status'] === 499),
    );
    const next = await get(port, '/');
    assert.equal(next.status, 200, next.body);
    assert.equal(visitsIn(next.body), 1, 'the next visitor is the first one counted');
    assert.equal(await redis.getNumber('visits'), 1, 'the counter equals the visits answered');
  });
}

test('visitors who left on a kept-alive connection and on a new one, in the same stall, are neither counted', { timeout: 15_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const { port, logs } = await startWeb(t, redis);

  // A kept-alive connection, as a balancer holds them: one answered request first.
  const kept = connect(port, '127.0.0.1');
  t.after(() => kept.destroy());
  const first = await new Promise<string>((resolve, reject) => {
    kept.once('data', (data) => resolve(data.toString()));
    kept.once('error', reject);
    kept.write('GET /host HTTP/1.1\r\nHost: replica\r\n\r\n');
  });
  assert.match(first, /^HTTP\/1\.1 200 /);

  // Its next request and its close reach the kernel at once (the write goes out synchronously
  // on an idle socket, and destroy() closes the descriptor); then, with this process blocked,
  // a new connection brings another visit and goes. The replica reads the kept connection's
  // visit a turn before the new one's: each must wait for its own connection's end.
  kept.write('GET / HTTP/1.1\r\nHost: replica\r\n\r\n');
  kept.destroy();
  const client = spawnSync(process.execPath, ['-e', CLIENT, String(port), 'end'], { timeout: 10_000 });
  assert.equal(client.status, 0, `the client ran: ${client.stderr}`);

  await waitFor('the access lines of both departed visits', () => logs.lines().filter((line) => line['path'] === '/' && line['status'] === 499).length === 2);
  const next = await get(port, '/');
  assert.equal(visitsIn(next.body), 1, 'the next visitor is the first one counted');
  assert.equal(await redis.getNumber('visits'), 1, 'the counter equals the visits answered');
});

// MAX_ACCEPT: a burst of new connections is accepted several per event-loop turn, not one
// (Node >= 20 accepts one per listening handle and turn). The connections the extra handles
// accept are served like any other, and close() stops them accepting too.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { connectionRefused } from '@visit-counter/shared/test-helpers';
import { addAcceptHandles, type AcceptHelper } from '../src/accept-handles.js';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { readUntil, readUntilClose } from './helpers/http-client.js';
import { waitFor } from './helpers/wait-for.js';

const BURST = 12;

/** A plain net server on a free loopback port; its port. */
async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** Counts event-loop turns: the check phase runs once per turn, after the poll that accepts. */
function turnCounter(t: TestContext): () => number {
  let turn = 0;
  let running = true;
  const tick = (): void => {
    turn += 1;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  t.after(() => {
    running = false;
  });
  return () => turn;
}

/**
 * Opens `count` connections at once (they are all in the kernel's accept queue before the
 * next poll) and returns how many `server` accepted in each turn that accepted any.
 */
async function acceptedPerTurn(t: TestContext, server: Server, port: number, count: number): Promise<number[]> {
  const turn = turnCounter(t);
  const perTurn = new Map<number, number>();
  const accepted: Socket[] = [];
  const onConnection = (socket: Socket): void => {
    perTurn.set(turn(), (perTurn.get(turn()) ?? 0) + 1);
    accepted.push(socket);
  };
  server.on('connection', onConnection);
  const clients = Array.from({ length: count }, () => connect(port, '127.0.0.1').on('error', () => {}));
  try {
    await waitFor(() => accepted.length === count, { what: `${count} connections to be accepted` });
    return [...perTurn.values()];
  } finally {
    server.off('connection', onConnection);
    for (const socket of [...clients, ...accepted]) socket.destroy();
  }
}

for (const extra of [0, 3]) {
  test(`with ${extra} extra handle(s), a burst of ${BURST} connections is accepted ${extra + 1} per turn`, async (t) => {
    const server = createServer();
    const port = await listenOnLoopback(server);
    const handles = await addAcceptHandles(server, extra);
    t.after(async () => {
      await handles.close();
      server.close();
    });

    const perTurn = await acceptedPerTurn(t, server, port, BURST);
    assert.equal(Math.max(...perTurn), extra + 1, `accepted per turn: ${perTurn.join(', ')}`);
    assert.equal(perTurn.reduce((sum, n) => sum + n, 0), BURST);
  });
}

// When the helper process fails, addAcceptHandles rejects (the balancer then logs a warning
// and accepts one connection per turn) and no copy it had already sent back keeps accepting.
const failingHelpers: Array<{ name: string; helper: AcceptHelper; message: RegExp }> = [
  {
    name: 'sends one copy back, then exits',
    helper: { script: "process.once('message', (m, handle) => process.send(m, handle, () => process.exit(3)));", timeoutMs: 5_000 },
    message: /^the helper process exited early \(3\)$/,
  },
  {
    name: 'sends one copy back, then never answers',
    // Long enough for the child to start and send its copy back on a busy machine: the test is
    // about that copy, which must stop accepting when the helper gives up.
    helper: { script: "process.once('message', (m, handle) => process.send(m, handle)); process.on('message', () => {});", timeoutMs: 2_000 },
    message: /^the helper process did not return the listening socket within 2000 ms$/,
  },
];

for (const { name, helper, message } of failingHelpers) {
  test(`a helper process that ${name}: rejected, and the server accepts one per turn on its own handle`, async (t) => {
    const server = createServer();
    const port = await listenOnLoopback(server);
    t.after(() => server.close());

    await assert.rejects(addAcceptHandles(server, 3, helper), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'LB_ACCEPT_HANDLES');
      assert.match(error.message, message);
      return true;
    });
    const perTurn = await acceptedPerTurn(t, server, port, BURST);
    assert.equal(Math.max(...perTurn), 1, `accepted per turn: ${perTurn.join(', ')}`);
    assert.equal(perTurn.reduce((sum, n) => sum + n, 0), BURST);
  });
}

test('while the handles are being added, every connection is still accepted by the server itself', async (t) => {
  const server = createServer((socket) => socket.end('ours\n'));
  const port = await listenOnLoopback(server);
  t.after(() => server.close());

  // Connections keep arriving while the helper process holds copies of the listening socket;
  // none of them may be taken (and dropped) by the helper. Bounded: at most 400 connections.
  let adding = true;
  const added = addAcceptHandles(server, 16).finally(() => (adding = false));
  const answers: Array<Promise<string>> = [];
  while (adding && answers.length < 400) {
    answers.push(readUntilClose(connect(port, '127.0.0.1')));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const handles = await added;
  t.after(() => handles.close());
  const seen = await Promise.all(answers);
  assert.deepEqual(seen.filter((text) => text !== 'ours\n'), [], `${answers.length} connections, each answered by the server`);
});

test('the balancer with MAX_ACCEPT=4 serves a burst through every handle; close() closes them all', async (t) => {
  const backend = await startBackend(t, 'a');
  const lb = await startBalancer(t, { BACKENDS: backend.id, MAX_ACCEPT: '4' });
  await waitForUp(lb, [backend.id]);
  assert.equal((await lb.status()).acceptPerTurn, 4, '/_lb/status shows the handles that accept');

  const perTurn = await acceptedPerTurn(t, lb.balancer.server, lb.port, 8);
  assert.equal(Math.max(...perTurn), 4, `accepted per turn: ${perTurn.join(', ')}`);

  // Every connection, whichever handle took it, gets its answer from the backend; some of
  // them came in through the extra handles. (`_server`: the net.Server that accepted it.)
  const acceptedBy: unknown[] = [];
  const onConnection = (socket: Socket): void => void acceptedBy.push((socket as unknown as { _server?: unknown })._server);
  lb.balancer.server.on('connection', onConnection);
  const answers = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const socket = connect(lb.port, '127.0.0.1');
      t.after(() => socket.destroy());
      const head = readUntil(socket, '\r\n\r\n');
      socket.write(`GET /burst/${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      return head;
    }),
  );
  lb.balancer.server.off('connection', onConnection);
  for (const answer of answers) assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.ok(acceptedBy.some((by) => by !== lb.balancer.server), 'some answered connections came in through the extra handles');

  await lb.balancer.close();
  assert.equal(await connectionRefused(lb.port), true, 'no handle accepts after close()');
});

test('SHUTDOWN_GRACE_MS also cuts requests on connections the extra handles accepted (on both paths: the suite runs twice)', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'slow');
  const lb = await startBalancer(t, { BACKENDS: backend.id, MAX_ACCEPT: '4', SHUTDOWN_GRACE_MS: '300' });
  await waitForUp(lb, [backend.id]);
  for (let i = 0; i < 8; i++) backend.plan.push('hang');

  // A burst, so that most connections come in through the copies; each request then hangs.
  const accepted: Socket[] = [];
  lb.balancer.server.on('connection', (socket: Socket) => accepted.push(socket));
  const sockets = Array.from({ length: 8 }, (_, i) => {
    const socket = connect(lb.port, '127.0.0.1').on('error', () => {});
    socket.write(`GET /held/${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
    t.after(() => socket.destroy());
    return socket;
  });
  await waitFor(() => backend.heldCount === 8, { what: 'eight requests held at the backend' });
  // Only connections the copies took stay: the server's own handle then has none left, so
  // only the grace period's cut can end them. (`_server`: the net.Server that accepted it.)
  const viaCopies = accepted.filter((socket) => (socket as unknown as { _server?: unknown })._server !== lb.balancer.server);
  assert.ok(viaCopies.length > 0, `${viaCopies.length} of 8 came in through the copies`);
  for (const socket of accepted) if (!viaCopies.includes(socket)) socket.destroy();

  // close() waits out the grace period, then cuts every held request, wherever it came in.
  const cut = sockets.map((socket) => once(socket, 'close'));
  const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('close() did not cut the held connections that came in through the copies')), 5_000).unref());
  await Promise.race([lb.balancer.close().then(() => Promise.all(cut)), deadline]);
  assert.equal(await connectionRefused(lb.port), true);
});

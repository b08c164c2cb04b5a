// The shared HTTP server's graceful close: it stops accepting at once, lets a request in
// flight finish, does not wait for idle keep-alive connections, and cuts what is left
// after the grace period.

import assert from 'node:assert/strict';
import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { HTTP_SERVER_DEFAULTS, createGracefulClose, createHttpServer, createLogger, listen } from '@visit-counter/shared';
import { captureLogs, httpRequest } from '@visit-counter/shared/test-helpers';

/** GET / through `agent`: status, body and the Connection header the server sent. */
async function get(port: number, agent: Agent): Promise<{ status: number; body: string; connection: string | undefined }> {
  const reply = await httpRequest(port, '/', { agent });
  return { status: reply.status, body: reply.body, connection: reply.headers.connection };
}

/** A server whose handler waits until the test releases it. */
async function startSlowServer(t: { after(fn: () => unknown): void }, graceMs: number) {
  const held: Array<() => void> = [];
  const arrived: Array<() => void> = [];
  const handler = (_req: IncomingMessage, res: ServerResponse): void => {
    held.push(() => res.end('done\n'));
    arrived.shift()?.();
  };
  const server = createHttpServer(HTTP_SERVER_DEFAULTS, handler, createLogger({ name: 'test', destination: captureLogs().stream }));
  const port = await listen(server, 0, '127.0.0.1');
  const close = createGracefulClose(server, graceMs);
  const agent = new Agent({ keepAlive: true });
  t.after(async () => {
    agent.destroy();
    server.closeAllConnections();
    await close();
  });
  return {
    port,
    agent,
    close,
    /** Resolves once the next request has reached the handler. */
    nextArrival: () => new Promise<void>((resolve) => arrived.push(resolve)),
    releaseAll: () => held.splice(0).forEach((release) => release()),
  };
}

test('a request in flight finishes after close() and new connections are refused', { timeout: 5000 }, async (t) => {
  const slow = await startSlowServer(t, 60_000);
  const arrival = slow.nextArrival();
  const inFlight = get(slow.port, slow.agent);
  await arrival;

  const closed = slow.close();
  assert.equal(slow.close(), closed, 'close() is idempotent');
  await assert.rejects(get(slow.port, new Agent()), { code: 'ECONNREFUSED' });

  slow.releaseAll();
  assert.deepEqual(await inFlight, { status: 200, body: 'done\n', connection: 'close' });
  await closed;
});

test('close() does not wait for idle keep-alive connections', { timeout: 5000 }, async (t) => {
  const slow = await startSlowServer(t, 60_000);
  const arrival = slow.nextArrival();
  const reply = get(slow.port, slow.agent);
  await arrival;
  slow.releaseAll();
  assert.equal((await reply).status, 200);
  // The agent now holds an idle keep-alive socket; a 60 s grace must not be spent on it.
  await slow.close();
});

test('close() cuts a request still running when the grace period ends', { timeout: 5000 }, async (t) => {
  const slow = await startSlowServer(t, 100);
  const arrival = slow.nextArrival();
  const stuck = get(slow.port, slow.agent);
  await arrival;
  await slow.close();
  await assert.rejects(stuck, { code: 'ECONNRESET' });
});

test('close() cuts at the end of the grace period a connection Node handed over (CONNECT), even one that keeps sending', { timeout: 10_000 }, async (t) => {
  const server = createHttpServer(HTTP_SERVER_DEFAULTS, (_req, res) => res.end('ok\n'), createLogger({ name: 'test', destination: captureLogs().stream }));
  const port = await listen(server, 0, '127.0.0.1');
  const close = createGracefulClose(server, 300);
  // The client reads the 405, never closes its side, and sends a byte every 100 ms: an idle
  // timeout would never fire. Bounded: at most 100 bytes.
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true }).on('error', () => {});
  let sent = 0;
  const trickle = setInterval(() => socket.writable && sent++ < 100 && socket.write('x'), 100);
  t.after(() => {
    clearInterval(trickle);
    socket.destroy();
  });
  const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  await answered;

  const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('close() waited past the grace period')), 3_000).unref());
  await Promise.race([close(), deadline]);
});

test('a request pipelined behind an answer under way when close() begins is handled and answered, then the connection ends', { timeout: 5000 }, async (t) => {
  const handled: string[] = [];
  let finishFirst: (() => void) | undefined;
  let firstUnderWay: () => void = () => undefined;
  const underWay = new Promise<void>((resolve) => (firstUnderWay = resolve));
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    handled.push(req.url ?? '');
    if (req.url !== '/first') {
      // As a replica's visit does, the answer comes a little later (here: the next turn).
      setImmediate(() => res.end(`answer to ${req.url}\n`));
      return;
    }
    res.write('part of the first answer, '); // its head is out: close() cannot mark it any more
    finishFirst = () => res.end('and its end\n');
    firstUnderWay();
  };
  const server = createHttpServer(HTTP_SERVER_DEFAULTS, handler, createLogger({ name: 'test', destination: captureLogs().stream }));
  const port = await listen(server, 0, '127.0.0.1');
  const close = createGracefulClose(server, 60_000);
  t.after(async () => {
    server.closeAllConnections();
    await close();
  });
  let parsed = 0;
  let secondParsed: () => void = () => undefined;
  const secondRead = new Promise<void>((resolve) => (secondParsed = resolve));
  server.on('request', () => ++parsed === 2 && secondParsed());

  const socket = connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  let received = '';
  socket.on('data', (data) => (received += data.toString()));
  const socketClosed = new Promise((resolve) => socket.on('close', resolve));
  socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
  await underWay;
  const closing = close();
  socket.write('GET /second HTTP/1.1\r\nHost: x\r\n\r\n');
  await secondRead; // read, and queued behind the first answer
  finishFirst?.();
  await socketClosed;
  await closing;
  assert.deepEqual(handled, ['/first', '/second']);
  assert.match(received, /part of the first answer, (?:\r\n[0-9a-f]+\r\n)?and its end/);
  assert.match(received, /answer to \/second\n/, 'the second request, once handled, is answered');
  assert.match(received, /\r\nconnection: close\r\n/i);
});

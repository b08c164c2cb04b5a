// Requests pipelined on one connection are forwarded one at a time, as nginx does: a request
// does not reach a backend while the one before it on its connection is still unanswered
// (RFC 9112 9.3.2 allows parallel work only when every pipelined request is safe), and the
// answers come back in order. Other connections are not held up meanwhile. A request that can
// get no answer (its client left, or an answer before it closes the connection) never
// reaches a backend: it would count a visit nobody sees.

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { createClient, openSocket, rawExchange, readUntil } from './helpers/http-client.js';
import { waitFor } from './helpers/wait-for.js';

const post = (path: string, body: string): string => `POST ${path} HTTP/1.1\r\nHost: shop.example\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

test('a POST pipelined behind a POST its backend holds is not forwarded until that one is answered; both answers come in order', { timeout: 20_000 }, async (t) => {
  const backends = await startBackends(t, ['a', 'b']);
  const held: Array<() => void> = [];
  for (const backend of backends) {
    backend.handler = (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const answer = (): void => void res.end(`${backend.name} took ${req.url} (${body})\n`);
        if (req.url === '/first') held.push(answer);
        else answer();
      });
    };
  }
  const lb = await startBalancer(t, { BACKENDS: backends.map((b) => b.id).join(',') });
  await waitForUp(lb, backends.map((b) => b.id));
  const arrived = (): string[] => backends.flatMap((b) => b.requests.map((r) => r.url));

  const socket = await openSocket(t, lb.port);
  const answers = readUntil(socket, '(two)\n');
  socket.write(post('/first', 'one') + post('/second', 'two'));

  // Another client's request, sent after both were parsed, is served meanwhile.
  const other = await createClient(t, lb.port).get('/other');
  assert.equal(other.status, 200);
  assert.equal(held.length, 1, 'the first request is at its backend, held');
  assert.deepEqual(arrived().filter((url) => url !== '/other'), ['/first'], 'the second waits for the first answer');

  for (const release of held) release();
  const text = await answers;
  const bodies = [...text.matchAll(/^[ab] took \S+ \(\w+\)$/gm)].map((match) => match[0].replace(/^[ab] /, ''));
  assert.deepEqual(bodies, ['took /first (one)', 'took /second (two)']);
  assert.deepEqual(arrived().filter((url) => url !== '/other').sort(), ['/first', '/second']);
});

test('a request pipelined behind an unanswered one is never forwarded when the client leaves first', { timeout: 20_000 }, async (t) => {
  const backends = await startBackends(t, ['a', 'b']);
  let firstArrived = false;
  for (const backend of backends) {
    backend.handler = (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      if (req.url === '/first') firstArrived = true; // and never answered
      else res.end(`${backend.name} took ${req.url}\n`);
    };
  }
  const lb = await startBalancer(t, { BACKENDS: backends.map((b) => b.id).join(',') });
  await waitForUp(lb, backends.map((b) => b.id));
  const arrived = (): string[] => backends.flatMap((b) => b.requests.map((r) => r.url));

  const socket = await openSocket(t, lb.port);
  socket.write('GET /first HTTP/1.1\r\nHost: a.example\r\n\r\nGET /second HTTP/1.1\r\nHost: a.example\r\n\r\n');
  await waitFor(() => firstArrived);
  socket.destroy();
  // The first is given up (the client left); nothing is in flight any more.
  await waitFor(async () => (await lb.status()).backends.every((b) => b.inFlight === 0));
  const other = await createClient(t, lb.port).get('/other');
  assert.equal(other.status, 200);
  assert.deepEqual(arrived().filter((url) => url !== '/other'), ['/first'], 'the second request never reached a backend');
});

test('a request pipelined behind one the balancer refuses (an empty Host: 400, connection closed) never reaches a backend', { timeout: 20_000 }, async (t) => {
  const backends = await startBackends(t, ['a', 'b']);
  const lb = await startBalancer(t, { BACKENDS: backends.map((b) => b.id).join(',') });
  await waitForUp(lb, backends.map((b) => b.id));
  const arrived = (): string[] => backends.flatMap((b) => b.requests.map((r) => r.url));

  const answer = await rawExchange(t, lb.port, 'GET /first HTTP/1.1\r\nHost:\r\n\r\nGET /second HTTP/1.1\r\nHost: a.example\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.equal(answer.match(/HTTP\/1\.1 /g)?.length, 1, `one answer only: ${answer}`);
  // Whatever the balancer did with /second, it did before the connection closed.
  const other = await createClient(t, lb.port).get('/other');
  assert.equal(other.status, 200);
  assert.deepEqual(arrived().filter((url) => url !== '/other'), [], 'nothing reached a backend');
});

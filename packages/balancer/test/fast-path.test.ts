// The fast path answers exactly as the full path does. Each case sends the same bytes to two
// balancers in front of one backend, one with FAST_PATH on and one with it off, and compares
// what a client sees: status, body, and the headers that matter. The fast balancer's figures
// say which path took the request, so a case meant for the fast path fails if it fell back
// (and one meant for the full path fails if the fast path took it).

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { startBalancer, waitForUp, type StartedBalancer } from './helpers/balancer.js';
import { startBackend, type FakeBackend } from './helpers/fake-backend.js';
import { openSocket, readUntil } from './helpers/http-client.js';
import { waitFor } from './helpers/wait-for.js';
import { parseAnswers, type RawAnswer } from './helpers/raw-http.js';
import { parseFastRequest } from '../src/fast-path/request-head.js';

const BIG = 'x'.repeat(256 * 1024);
/** Answers to `/held` requests, sent when the test calls them. */
const held: Array<() => void> = [];

/** A backend whose answer depends on the path: fixed, chunked, 204, large, held, never, or an echo. */
function startEchoBackend(t: TestContext): Promise<FakeBackend> {
  return startBackend(t, 'echo', {
    handler: (req, res) => {
      const path = req.url ?? '';
      if (path.startsWith('/fixed')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('fixed body\n');
      } else if (path === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part one\n');
        setImmediate(() => res.end('part two\n'));
      } else if (path === '/no-content') {
        res.writeHead(204, { 'x-note': 'nothing' });
        res.end();
      } else if (path === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BIG.length });
        res.end(BIG);
      } else if (path === '/held') {
        held.push(() => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('held body\n');
        });
      } else if (path === '/hang') {
        // never answers: the balancer's upstream timeout does
      } else {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (body += chunk));
        req.on('end', () => {
          const h = req.headers;
          res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': String(h['x-request-id']) });
          res.end(
            JSON.stringify({
              method: req.method,
              url: req.url,
              body,
              host: h.host,
              forwardedFor: h['x-forwarded-for'],
              forwardedProto: h['x-forwarded-proto'],
              forwardedHost: h['x-forwarded-host'],
              secret: h['x-secret'],
              connection: h.connection,
            }),
          );
        });
      }
    },
  });
}

/** How long one exchange may take before it fails with what arrived. */
const EXCHANGE_MS = 10_000;

/**
 * Sends `parts` and reads until the balancer closes the connection. `sequential`: each part is
 * a request sent once every earlier one is answered, as a keep-alive client does; otherwise
 * the parts go out a moment apart (pieces of one head: whether they arrive as one read or two
 * is up to TCP).
 */

async function exchange(t: TestContext, port: number, parts: readonly string[], bodyless: readonly boolean[] = [], sequential = false): Promise<RawAnswer[]> {
  const socket: Socket = await openSocket(t, port);
  const chunks: Buffer[] = [];
  const closed = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the connection stayed open for ${EXCHANGE_MS} ms; received: ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
      socket.destroy();
    }, EXCHANGE_MS);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  let received: () => void = () => undefined;
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    received();
  });
  const answered = (count: number): Promise<void> =>
    new Promise((resolve) => {
      received = () => {
        if (parseAnswers(Buffer.concat(chunks), bodyless, true).length >= count) resolve();
      };
      received();
    });
  for (const [i, part] of parts.entries()) {
    if (i > 0 && sequential) await Promise.race([answered(i), closed]);
    else if (i > 0) await new Promise((resolve) => setTimeout(resolve, 30));
    socket.write(Buffer.from(part, 'latin1'));
  }
  await closed;
  return parseAnswers(Buffer.concat(chunks), bodyless);
}

/** What a client sees of an answer, less what differs by nature (dates, generated ids). */
function seen(answer: RawAnswer): Record<string, unknown> {
  const pick = ['content-type', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'cache-control', 'x-backend', 'x-note'];
  const headers = Object.fromEntries(pick.map((name) => [name, answer.headers.get(name)?.join(', ')]));
  let body: unknown = answer.body;
  if (answer.headers.get('content-type')?.[0] === 'application/json') {
    const parsed = JSON.parse(answer.body) as Record<string, unknown>;
    delete parsed['requestId'];
    body = parsed;
  }
  return {
    status: answer.status,
    headers,
    body,
    // exactly one of each, whichever path answered
    requestIds: answer.headers.get('x-request-id')?.length ?? 0,
    dates: answer.headers.get('date')?.length ?? 0,
  };
}

interface Case {
  name: string;
  parts: string[];
  bodyless?: boolean[];
  /** The parts are requests, each sent after the answer to the one before. */
  sequential?: boolean;
  /** How many requests the fast path should take; undefined: not up to the balancer. */
  fast: number | undefined;
}

const head = (lines: string[]): string => lines.join('\r\n') + '\r\n\r\n';

const CASES: Case[] = [
  { name: 'GET, fixed-length answer', parts: [head(['GET /fixed HTTP/1.1', 'Host: a.test', 'Connection: close'])], fast: 1 },
  { name: 'GET, chunked answer', parts: [head(['GET /chunked HTTP/1.1', 'Host: a.test', 'Connection: close'])], fast: 1 },
  { name: 'GET, 204 answer', parts: [head(['GET /no-content HTTP/1.1', 'Host: a.test', 'Connection: close'])], fast: 1 },
  { name: 'GET, 256 KiB answer', parts: [head(['GET /big HTTP/1.1', 'Host: a.test', 'Connection: close'])], fast: 1 },
  { name: 'HEAD', parts: [head(['HEAD /fixed HTTP/1.1', 'Host: a.test', 'Connection: close'])], bodyless: [true], fast: 1 },
  {
    name: 'GET, headers for the backend (X-Forwarded-* replaced at the edge, request id kept)',
    parts: [head(['GET /echo?q=1 HTTP/1.1', 'Host: a.test', 'X-Forwarded-For: 203.0.113.9', 'X-Forwarded-Host: evil.test', 'X-Request-Id: given-1', 'Connection: close'])],
    fast: 1,
  },
  {
    name: 'two requests on one connection',
    parts: [head(['GET /fixed/1 HTTP/1.1', 'Host: a.test']), head(['GET /fixed/2 HTTP/1.1', 'Host: a.test', 'Connection: close'])],
    sequential: true,
    fast: 2,
  },
  {
    name: 'a plain GET, then a POST on the same connection (handed over between requests)',
    parts: [head(['GET /echo HTTP/1.1', 'Host: a.test']), head(['POST /echo HTTP/1.1', 'Host: a.test', 'Content-Length: 5', 'Connection: close']) + 'hello'],
    sequential: true,
    fast: 1,
  },
  { name: 'POST with a body', parts: [head(['POST /echo HTTP/1.1', 'Host: a.test', 'Content-Length: 5', 'Connection: close']) + 'hello'], fast: 0 },
  { name: 'GET with Content-Length: 0', parts: [head(['GET /echo HTTP/1.1', 'Host: a.test', 'Content-Length: 0', 'Connection: close'])], fast: 0 },
  { name: 'HTTP/1.0', parts: [head(['GET /fixed HTTP/1.0', 'Host: a.test'])], fast: 0 },
  { name: 'Connection naming another header', parts: [head(['GET /echo HTTP/1.1', 'Host: a.test', 'X-Secret: 1', 'Connection: close, x-secret'])], fast: 0 },
  { name: 'two Host headers (400)', parts: [head(['GET /fixed HTTP/1.1', 'Host: a.test', 'Host: b.test', 'Connection: close'])], fast: 0 },
  { name: 'no Host header (400)', parts: [head(['GET /fixed HTTP/1.1', 'Connection: close'])], fast: 0 },
  { name: 'a header value with obs-text', parts: [head(['GET /echo HTTP/1.1', 'Host: a.test', 'X-Name: caf\xe9', 'Connection: close'])], fast: 0 },
  { name: 'the admin endpoint', parts: [head(['GET /_lb/healthz HTTP/1.1', 'Host: a.test', 'Connection: close'])], fast: 0 },
  // TCP may join the pieces into one read (then the fast path may take it); either way the
  // answers match. That a partial head is refused is checked on the parser itself below.
  { name: 'a head split over two writes', parts: ['GET /fixed HTTP/1.1\r\nHost: a.t', 'est\r\nConnection: close\r\n\r\n'], fast: undefined },
  {
    name: 'two pipelined heads in one read',
    parts: [head(['GET /fixed/1 HTTP/1.1', 'Host: a.test']) + head(['GET /fixed/2 HTTP/1.1', 'Host: a.test', 'Connection: close'])],
    fast: 0,
  },
  {
    name: 'a backend that does not answer in time (504, as JSON when asked)',
    parts: [head(['GET /hang HTTP/1.1', 'Host: a.test', 'Accept: application/json', 'Connection: close'])],
    fast: 1,
  },
];

test('the fast path answers like the full path, and takes only the requests it should', { timeout: 60_000 }, async (t) => {
  const backend = await startEchoBackend(t);
  const env = { BACKENDS: backend.id, UPSTREAM_HEADERS_TIMEOUT_MS: '300' };
  const fast = await startBalancer(t, { ...env, FAST_PATH: 'true' });
  const full = await startBalancer(t, { ...env, FAST_PATH: 'false' });
  await waitForUp(fast, [backend.id]);
  await waitForUp(full, [backend.id]);
  const fastRequests = async (lb: StartedBalancer): Promise<number> => Number((await lb.status()).totals['fastPath']);

  for (const c of CASES) {
    await t.test(c.name, async (t) => {
      const before = await fastRequests(fast);
      const viaFast = await exchange(t, fast.port, c.parts, c.bodyless, c.sequential);
      const viaFull = await exchange(t, full.port, c.parts, c.bodyless, c.sequential);
      if (c.fast !== undefined) assert.equal((await fastRequests(fast)) - before, c.fast, 'requests taken by the fast path');
      assert.equal(await fastRequests(full), 0, 'FAST_PATH=false takes none');
      assert.equal(viaFast.length, viaFull.length, 'number of answers');
      assert.ok(viaFast.length > 0);
      assert.deepEqual(viaFast.map(seen), viaFull.map(seen));
    });
  }
});

test('the fast path: the answers themselves are right', { timeout: 30_000 }, async (t) => {
  const backend = await startEchoBackend(t);
  const lb = await startBalancer(t, { BACKENDS: backend.id, UPSTREAM_HEADERS_TIMEOUT_MS: '300', FAST_PATH: 'true' });
  await waitForUp(lb, [backend.id]);
  const [echo] = await exchange(t, lb.port, [head(['GET /echo?q=1 HTTP/1.1', 'Host: a.test', 'X-Forwarded-For: 203.0.113.9', 'X-Request-Id: given-1', 'Connection: close'])]);
  assert.equal(echo?.status, 200);
  assert.deepEqual(echo?.headers.get('x-request-id'), ['given-1']);
  assert.deepEqual(echo?.headers.get('x-backend'), [backend.id]);
  assert.deepEqual(JSON.parse(echo?.body ?? '{}'), {
    method: 'GET',
    url: '/echo?q=1',
    body: '',
    host: 'a.test',
    forwardedFor: '127.0.0.1',
    forwardedProto: 'http',
    forwardedHost: 'a.test',
    connection: 'keep-alive', // the balancer's own connection to the backend
  });
  const [chunked] = await exchange(t, lb.port, [head(['GET /chunked HTTP/1.1', 'Host: a.test', 'Connection: close'])]);
  assert.equal(chunked?.body, 'part one\npart two\n');
  const [big] = await exchange(t, lb.port, [head(['GET /big HTTP/1.1', 'Host: a.test', 'Connection: close'])]);
  assert.equal(big?.body, BIG);
  const [timeout] = await exchange(t, lb.port, [head(['GET /hang HTTP/1.1', 'Host: a.test', 'Accept: application/json', 'Connection: close'])]);
  assert.equal(timeout?.status, 504);
  assert.equal(JSON.parse(timeout?.body ?? '{}').code, 'LB_UPSTREAM_TIMEOUT');
  assert.equal((await lb.status()).totals['fastPath'], 4, 'all four went through the fast path');
});

test('the fast path\'s parser refuses what is not one whole plain head', () => {
  const parse = (text: string) => parseFastRequest(Buffer.from(text, 'latin1'), 16 * 1024);
  assert.equal(parse('GET /fixed HTTP/1.1\r\nHost: a.test\r\n\r\n')?.target, '/fixed');
  for (const text of [
    'GET /fixed HTTP/1.1\r\nHost: a.t', // the head is not complete
    'GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n', // two requests
    'GET /a HTTP/1.1\r\nHost: a\r\n \tfolded\r\n\r\n', // a folded line
    'GET /a HTTP/1.1\r\nHost: a\r\nX-A\rB: 1\r\n\r\n', // a bare CR
  ]) {
    assert.equal(parse(text), undefined, JSON.stringify(text));
  }
  assert.equal(parse('GET /a HTTP/1.1\r\nHost: a\r\nX-Big: ' + 'x'.repeat(20_000) + '\r\n\r\n'), undefined, 'over MAX_HEADER_SIZE');
});

test('the fast path keeps a connection open between requests and ends it on Connection: close', { timeout: 20_000 }, async (t) => {
  const backend = await startEchoBackend(t);
  const lb = await startBalancer(t, { BACKENDS: backend.id, FAST_PATH: 'true' });
  await waitForUp(lb, [backend.id]);
  const socket = await openSocket(t, lb.port);
  for (let i = 1; i <= 3; i++) {
    socket.write(head([`GET /fixed/${i} HTTP/1.1`, 'Host: a.test']));
    const text = await readUntil(socket, 'fixed body\n');
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nconnection: keep-alive\r\n/i);
  }
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(head(['GET /fixed/4 HTTP/1.1', 'Host: a.test', 'Connection: close']));
  await closed;
  assert.equal((await lb.status()).totals['fastPath'], 4);
});

test('a request pipelined behind one in flight on the fast path is answered next, in order', { timeout: 20_000 }, async (t) => {
  const backend = await startEchoBackend(t);
  const lb = await startBalancer(t, { BACKENDS: backend.id, FAST_PATH: 'true' });
  await waitForUp(lb, [backend.id]);
  let balancerSide: Socket | undefined;
  lb.balancer.server.once('connection', (socket: Socket) => (balancerSide = socket));
  const socket = await openSocket(t, lb.port);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const first = head(['GET /held HTTP/1.1', 'Host: a.test']);
  const second = head(['GET /echo HTTP/1.1', 'Host: a.test', 'Connection: close']);
  socket.write(first);
  await waitFor(() => held.length === 1, { what: 'the first request at the backend' });
  // The second request arrives while the first is still held at the backend: released only
  // once the balancer has read it.
  socket.write(second);
  await waitFor(() => balancerSide !== undefined && balancerSide.bytesRead >= first.length + second.length, { what: 'the balancer to read the second head' });
  held.shift()?.();
  await closed;
  const answers = parseAnswers(Buffer.concat(chunks));
  assert.deepEqual(answers.map((answer) => [answer.status, answer.body.slice(0, 9)]), [
    [200, 'held body'],
    [200, '{"method"'],
  ]);
  assert.equal(JSON.parse(answers[1]?.body ?? '{}').url, '/echo');
  const totals = (await lb.status()).totals;
  assert.equal(totals['requests'], 2);
  assert.equal(totals['fastPath'], 1, 'the second request went to the full path');
});

test('a request sent after an answer with Connection: close never reaches the backend (on both paths: the suite runs twice)', { timeout: 20_000 }, async (t) => {
  const backend = await startEchoBackend(t);
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);
  // A client that keeps its own side open after the balancer's close, and sends once more.
  const socket = connect({ port: lb.port, host: '127.0.0.1', allowHalfOpen: true }).on('error', () => {});
  t.after(() => socket.destroy());
  const closed = once(socket, 'close');
  const first = readUntil(socket, 'fixed body\n');
  socket.write(head(['GET /fixed/1 HTTP/1.1', 'Host: a.test', 'Connection: close']));
  assert.match(await first, /^HTTP\/1\.1 200 OK\r\n/);
  socket.write(head(['GET /fixed/2 HTTP/1.1', 'Host: a.test']));
  socket.end();
  await closed;

  // A visit behind the close would be counted without an answer: it must not go out.
  assert.equal((await lb.client.get('/fixed/3')).status, 200);
  assert.deepEqual(backend.requests.map((request) => request.url), ['/fixed/1', '/fixed/3']);
});

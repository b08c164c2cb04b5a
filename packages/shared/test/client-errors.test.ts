// What the shared HTTP server answers to requests its handlers never see: bytes that do not
// parse (after pipelined requests that did), an HTTP/1.1 request without Host, an
// expectation other than 100-continue, CONNECT. Raw bytes on a real socket; the test reads
// everything the server sends until it closes the connection.

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { HTTP_SERVER_DEFAULTS, createHttpServer, createLogger, listen } from '@visit-counter/shared';
import { captureLogs } from '@visit-counter/shared/test-helpers';

/**
 * The handler: `/big/*` answers 4 MiB (honouring backpressure), `/slow/*` answers after 300 ms, `/stream/*` writes its answer in three parts
 * 150 ms apart (long enough for the test's next bytes to arrive meanwhile, on a busy machine too), anything else at once (`ok <path>`, and the Host when it is not `x`); a request
 * with a body is answered once it has all arrived.
 */
const BIG = 'b'.repeat(4 * 1024 * 1024); // more than a socket's buffers hold

function handler(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '';
  req.resume();
  req.on('end', () => {
    if (path.startsWith('/big/')) {
      // Written as a proxy writes: a part at a time, waiting for 'drain' when the socket is full.
      let offset = 0;
      const more = (): void => {
        while (offset < BIG.length) {
          const part = BIG.slice(offset, (offset += 64 * 1024));
          if (!res.write(part)) {
            res.once('drain', more);
            return;
          }
        }
        res.end();
      };
      more();
      return;
    }
    if (path.startsWith('/stream/')) {
      res.write('part 1,');
      setTimeout(() => res.write('part 2,'), 150);
      setTimeout(() => res.end('part 3\n'), 300);
      return;
    }
    const host = req.headers.host === undefined || req.headers.host === 'x' ? '' : ` (host ${req.headers.host})`; // only the absolute-form case names another
    setTimeout(() => res.end(`ok ${req.url}${host}\n`), path.startsWith('/slow/') ? 300 : 0);
  });
}

/** Sends each chunk (the next one `gapMs` later) and returns all the server sent until it closed. */
function exchange(port: number, chunks: readonly string[], gapMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const timers: NodeJS.Timeout[] = [];
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within 5 s; it sent ${JSON.stringify(received)}`));
    }, 5_000);
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (received += text));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(deadline);
      for (const timer of timers) clearTimeout(timer);
      resolve(received);
    });
    chunks.forEach((chunk, i) => timers.push(setTimeout(() => socket.writable && socket.write(chunk), i * gapMs)));
  });
}

/** Status code and body of each answer, in order. */
function answers(raw: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  let rest = raw;
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n');
    assert.ok(headEnd > 0, `an answer head in ${JSON.stringify(rest)}`);
    const head = rest.slice(0, headEnd);
    rest = rest.slice(headEnd + 4);
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
    const length = /\r\ncontent-length: (\d+)/i.exec(head);
    let body = '';
    if (length) {
      body = rest.slice(0, Number(length[1]));
      rest = rest.slice(Number(length[1]));
    } else if (/\r\ntransfer-encoding: chunked/i.test(head)) {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = parseInt(rest.slice(0, lineEnd), 16);
        assert.ok(lineEnd >= 0 && size >= 0, `a chunk size in ${JSON.stringify(rest)}`);
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
        rest = rest.slice(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else {
      body = rest; // delimited by the close (an HTTP/1.0 client)
      rest = '';
    }
    out.push([status, body]);
  }
  return out;
}

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const MALFORMED: [number, string] = [400, 'The request is malformed.\n'];

/** `handled`: how many requests the handler sees; by default, those answered 200. */
const cases: Array<{ name: string; chunks: string[]; gapMs?: number; expected: Array<[number, string]>; handled?: number }> = [
  { name: 'a bad request pipelined behind a good one, in one packet', chunks: [get('/a') + 'BROKEN\r\n\r\n'], expected: [[200, 'ok /a\n'], MALFORMED] },
  {
    name: 'two good requests and a bad one, in one packet',
    chunks: [get('/slow/a') + get('/b') + 'GET / HTTP/1.1\r\nBad Header\r\n\r\n'],
    expected: [[200, 'ok /slow/a\n'], [200, 'ok /b\n'], MALFORMED],
  },
  { name: 'bad bytes while a slow answer is in flight', chunks: [get('/slow/a'), 'BROKEN\r\n\r\n'], gapMs: 10, expected: [[200, 'ok /slow/a\n'], MALFORMED] },
  { name: 'bad bytes while an answer is being streamed', chunks: [get('/stream/a'), 'BROKEN\r\n\r\n'], gapMs: 10, expected: [[200, 'part 1,part 2,part 3\n'], MALFORMED] },
  { name: 'bytes after a request that said Connection: close are ignored', chunks: [get('/a', 'Connection: close\r\n') + get('/b')], expected: [[200, 'ok /a\n']] },
  {
    name: 'a bad chunk in the body of the request being handled',
    chunks: ['POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    expected: [MALFORMED],
    handled: 1, // its head was good: the handler had it when the body went wrong
  },
  { name: 'HTTP/1.1 without Host', chunks: ['GET / HTTP/1.1\r\n\r\n'], expected: [[400, 'The request has no Host header, which HTTP/1.1 requires.\n']] },
  { name: 'two Host headers', chunks: ['GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n'], expected: [[400, 'The request has more than one Host header.\n']] },
  {
    name: 'a transfer coding other than chunked',
    chunks: ['POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
    expected: [[501, 'The only transfer coding this server accepts is chunked.\n']],
  },
  {
    name: 'a chunked body',
    chunks: ['POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
    expected: [[200, 'ok /up\n']],
  },
  { name: 'OPTIONS *', chunks: ['OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n'], expected: [[400, 'The request target must be a path starting with "/" or an http:// URL.\n']] },
  {
    name: 'absolute-form targets, as clients configured for a proxy send them, are their paths',
    chunks: [get('http://abs.example/abs?q=1') + get('HTTP://abs.example:8080') + get('http://abs.example?only=query', 'Connection: close\r\n')],
    expected: [[200, 'ok /abs?q=1 (host abs.example)\n'], [200, 'ok / (host abs.example:8080)\n'], [200, 'ok /?only=query (host abs.example)\n']],
  },
  { name: 'an expectation other than 100-continue', chunks: [get('/a', 'Expect: something-else\r\n')], expected: [[417, 'The only expectation this server meets is Expect: 100-continue.\n']] },
  {
    name: 'CONNECT pipelined behind a request',
    chunks: [get('/slow/a') + 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
    expected: [[200, 'ok /slow/a\n'], [405, 'CONNECT is not supported: this server is not a forward proxy.\n']],
  },
  {
    name: 'CONNECT pipelined behind an answer larger than the socket buffer',
    chunks: [get('/big/a') + 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
    expected: [[200, BIG], [405, 'CONNECT is not supported: this server is not a forward proxy.\n']],
  },
  { name: 'an absolute-form target with user information', chunks: [get('http://user:pw@abs.example/')], expected: [[400, 'The request target must not carry user information ("user:password@").\n']] },
  { name: 'a Host header with a space in it', chunks: ['GET /a HTTP/1.1\r\nHost: a b\r\n\r\n'], expected: [[400, 'The Host header is not a host name or address with an optional port.\n']] },
  { name: 'a Host header with a path in it', chunks: ['GET /a HTTP/1.1\r\nHost: example.com/evil\r\n\r\n'], expected: [[400, 'The Host header is not a host name or address with an optional port.\n']] },
  { name: 'an empty Host header', chunks: ['GET /a HTTP/1.1\r\nHost:\r\n\r\n'], expected: [[400, 'The Host header is not a host name or address with an optional port.\n']] },
  { name: 'a request line without a version (HTTP/0.9)', chunks: ['GET /a\r\n\r\n'], expected: [[505, 'This server speaks HTTP/1.0 and HTTP/1.1 only.\n']] },
  { name: 'HTTP/1.2 in a request line', chunks: ['GET /a HTTP/1.2\r\nHost: x\r\n\r\n'], expected: [[505, 'This server speaks HTTP/1.0 and HTTP/1.1 only.\n']] },
  { name: 'HTTP/2.0 in a request line', chunks: ['GET /a HTTP/2.0\r\nHost: x\r\n\r\n'], expected: [[505, 'This server speaks HTTP/1.0 and HTTP/1.1 only.\n']] },
  {
    name: 'an HTTP/1.0 request with a Transfer-Encoding (RFC 9112 6.1: its framing is faulty), then a request behind it',
    chunks: ['POST /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n'],
    expected: [[400, 'An HTTP/1.0 request cannot carry a Transfer-Encoding header.\n']],
  },
  { name: 'a Host header with two dots in a row', chunks: ['GET /a HTTP/1.1\r\nHost: a..b\r\n\r\n'], expected: [[400, 'The Host header is not a host name or address with an optional port.\n']] },
  { name: 'an absolute-form target whose authority is no host', chunks: [get('http://a[b/')], expected: [[400, 'The Host header is not a host name or address with an optional port.\n']] },
  {
    name: 'Host headers of every valid form: a name and port, an IPv6 literal (with a zone too, encoded or not), an IPv4 address, IPvFuture',
    chunks: [
      'GET /a HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n' +
        'GET /b HTTP/1.1\r\nHost: [::1]:80\r\n\r\n' +
        'GET /c HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n' +
        'GET /e HTTP/1.1\r\nHost: [fe80::1%25eth0]:8080\r\n\r\n' +
        'GET /g HTTP/1.1\r\nHost: [fe80::1%eth0]\r\n\r\n' +
        'GET /f HTTP/1.1\r\nHost: [v1.fe80::a+en1]\r\nConnection: close\r\n\r\n',
    ],
    expected: [[200, 'ok /a (host Example.COM:8080)\n'], [200, 'ok /b (host [::1]:80)\n'], [200, 'ok /c (host 10.0.0.1)\n'], [200, 'ok /e (host [fe80::1%25eth0]:8080)\n'], [200, 'ok /g (host [fe80::1%eth0])\n'], [200, 'ok /f (host [v1.fe80::a+en1])\n']],
  },
  { name: 'CONNECT', chunks: ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'], expected: [[405, 'CONNECT is not supported: this server is not a forward proxy.\n']] },
];

for (const { name, chunks, gapMs = 0, expected, handled } of cases) {
  test(`${name}: ${expected.map(([status]) => status).join(', ')}, then the connection closes`, async (t) => {
    const seen: string[] = [];
    const recording = (req: IncomingMessage, res: ServerResponse): void => {
      seen.push(req.url ?? '');
      handler(req, res);
    };
    const server = createHttpServer(HTTP_SERVER_DEFAULTS, recording, createLogger({ name: 'test', destination: captureLogs().stream }));
    const port = await listen(server, 0, '127.0.0.1');
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    assert.deepEqual(answers(await exchange(port, chunks, gapMs)), expected);
    // A request the handler sees is one whose answer the client gets: none is handled (in a
    // proxy: forwarded, in a replica: counted) behind an answer that closes the connection.
    assert.equal(seen.length, handled ?? expected.filter(([status]) => status === 200).length, `handled: ${seen.join(', ')}`);
  });
}

test('HTTP/1.0 without Host is still served', async (t) => {
  const server = createHttpServer(HTTP_SERVER_DEFAULTS, handler, createLogger({ name: 'test', destination: captureLogs().stream }));
  const port = await listen(server, 0, '127.0.0.1');
  t.after(() => server.close());
  assert.deepEqual(answers(await exchange(port, ['GET /old HTTP/1.0\r\n\r\n'], 0)), [[200, 'ok /old\n']]);
});

test('a request completed after its 408 is not served', { timeout: 10_000 }, async (t) => {
  let served = 0;
  const limits = { ...HTTP_SERVER_DEFAULTS, headersTimeoutMs: 200 };
  const server = createHttpServer(limits, (_req, res) => {
    served += 1;
    res.end('served\n');
  }, createLogger({ name: 'test', destination: captureLogs().stream }));
  const port = await listen(server, 0, '127.0.0.1');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });

  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true }).on('error', () => {});
  t.after(() => socket.destroy());
  let received = '';
  socket.setEncoding('latin1');
  const timedOut = new Promise<void>((resolve) => socket.on('data', (text: string) => (received += text) && received.includes('\r\n\r\n') && resolve()));
  socket.write('GET /late HTTP/1.1\r\nHost: x\r\n'); // the head's last line never comes in time
  await timedOut;
  assert.match(received, /^HTTP\/1\.1 408 /);

  // The rest of the head arrives after the 408; the client then closes, and so does the server.
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.end('\r\n');
  await closed;
  assert.equal(served, 0, 'the handler never saw the late request');
  assert.deepEqual(answers(received), [[408, 'The request took too long to arrive.\n']]);
});

test('a request that times out while an earlier answer is still to come gets its 408 after that answer', { timeout: 10_000 }, async (t) => {
  const logs = captureLogs();
  let release: () => void = () => {};
  const limits = { ...HTTP_SERVER_DEFAULTS, headersTimeoutMs: 200 };
  const server = createHttpServer(limits, (req, res) => {
    if (req.url === '/held') release = () => res.end('held\n');
    else res.end('served\n');
  }, createLogger({ name: 'test', destination: logs.stream }));
  const port = await listen(server, 0, '127.0.0.1');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });

  const socket = connect(port, '127.0.0.1').on('error', () => {});
  t.after(() => socket.destroy());
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => (received += text));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // /held waits; the head behind it lacks its last line past the headers timeout.
  socket.write(`${get('/held')}GET /late HTTP/1.1\r\nHost: x\r\n`);
  await waitForLog(logs, (line) => line['status'] === 408);
  socket.write('\r\n'); // the late head completes after its 408 was decided
  release();
  await closed;
assert.deepEqual(answers(received), [[200, 'held\n'], [408, 'The request took too long to arrive.\n']]);
});

/** Polls the captured log until a line matches (bounded: 5 s). */
async function waitForLog(logs: ReturnType<typeof captureLogs>, match: (line: Record<string, unknown>) => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!logs.lines().some(match)) {
    if (Date.now() > deadline) throw new Error('the log line never came');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// The headers a backend sees and a client gets back: X-Forwarded-For replaced at the edge
// (a client cannot spoof its address) and appended behind a trusted proxy; X-Forwarded-Proto
// and X-Forwarded-Host set; Host passed through; hop-by-hop headers stripped both ways.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { parseRawResponse, rawExchange } from './helpers/http-client.js';

test('by default the balancer is the edge: X-Forwarded-* are its own, Host passes through', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);

  const reply = await lb.client.get('/where', {
    host: 'visits.example:8080',
    'x-forwarded-for': '6.6.6.6, 7.7.7.7',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'spoofed.example',
  });
  assert.equal(reply.status, 200);
  const seen = backend.requests[0]?.headers;
  assert.ok(seen);
  assert.equal(seen['x-forwarded-for'], '127.0.0.1', 'a client cannot spoof its address');
  assert.equal(seen['x-forwarded-proto'], 'http');
  assert.equal(seen['x-forwarded-host'], 'visits.example:8080');
  assert.equal(seen['host'], 'visits.example:8080');
  // One of each, not the client's and ours side by side.
  const raw = backend.requests[0]?.rawHeaders ?? [];
  const count = (name: string): number => raw.filter((value, i) => i % 2 === 0 && value.toLowerCase() === name).length;
  assert.equal(count('x-forwarded-for'), 1);
  assert.equal(count('x-forwarded-proto'), 1);
  assert.equal(count('x-forwarded-host'), 1);
  assert.equal(count('host'), 1);
});

test('TRUST_PROXY=true appends to X-Forwarded-For and keeps the proxy\'s proto and host', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  const lb = await startBalancer(t, { BACKENDS: backend.id, TRUST_PROXY: 'true' });
  await waitForUp(lb, [backend.id]);

  await lb.client.get('/', {
    host: 'internal:8080',
    'x-forwarded-for': '203.0.113.7, 198.51.100.2',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'visits.example',
  });
  await lb.client.get('/', { host: 'direct.example' });
  const [proxied, direct] = backend.requests;
  assert.equal(proxied?.headers['x-forwarded-for'], '203.0.113.7, 198.51.100.2, 127.0.0.1');
  assert.equal(proxied?.headers['x-forwarded-proto'], 'https');
  assert.equal(proxied?.headers['x-forwarded-host'], 'visits.example');
  assert.equal(proxied?.headers['host'], 'internal:8080');
  // Without a proxy in front, the balancer's own values.
  assert.equal(direct?.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(direct?.headers['x-forwarded-proto'], 'http');
  assert.equal(direct?.headers['x-forwarded-host'], 'direct.example');
});

test('hop-by-hop headers are stripped both ways; end-to-end headers pass', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web', {
    handler: (req, res) => {
      req.resume();
      // Two Connection lines: what the first lists is dropped even though the last lists nothing.
      res.setHeader('connection', ['x-backend-hop', 'keep-alive']);
      res.setHeader('x-backend-hop', 'secret');
      res.setHeader('keep-alive', 'timeout=5, max=7');
      res.setHeader('proxy-authenticate', 'Basic realm="backend"');
      res.setHeader('x-end-to-end', 'kept');
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.setHeader('content-type', 'text/plain');
      res.end('body\n');
    },
  });
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);

  // Raw, because no HTTP client lets a caller send all of these.
  const reply = parseRawResponse(
    await rawExchange(
      t,
      lb.port,
      'GET / HTTP/1.1\r\nHost: visits.example\r\nConnection: close, x-client-hop, host\r\nX-Client-Hop: secret\r\n' +
        'Keep-Alive: timeout=300\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\nTE: trailers\r\nTrailer: x-checksum\r\n' +
        'Proxy-Connection: keep-alive\r\nX-End-To-End: kept\r\n\r\n',
    ),
  );
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'body\n');

  const seen = backend.requests[0]?.headers;
  assert.ok(seen);
  for (const name of ['x-client-hop', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer']) {
    assert.equal(seen[name], undefined, `the backend saw ${name}`);
  }
  assert.doesNotMatch(String(seen['connection']), /x-client-hop/);
  assert.equal(seen['x-end-to-end'], 'kept');
  assert.equal(seen['host'], 'visits.example', 'Host goes on even when Connection lists it');

  assert.equal(reply.headers['x-backend-hop'], undefined, 'a header the backend named in Connection');
  assert.equal(reply.headers['proxy-authenticate'], undefined);
  assert.equal(reply.headers['keep-alive'], undefined, 'the backend\'s keep-alive is its own business');
  assert.equal(reply.headers['connection'], 'close', 'the client\'s own connection handling, not the backend\'s');
  assert.equal(reply.headers['x-end-to-end'], 'kept');
  assert.match(reply.raw, /\r\nset-cookie: a=1; Path=\/\r\n/i);
  assert.match(reply.raw, /\r\nset-cookie: b=2; Path=\/\r\n/i);
});

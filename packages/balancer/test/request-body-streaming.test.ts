// Request and response bodies are streamed both ways, not buffered: a backend that echoes
// what it reads hands the first chunk back to the client before the client has sent the
// second; a large body arrives intact.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { test } from 'node:test';
import { startBackend, type Handler } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';

const echo: Handler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  res.flushHeaders();
  req.on('data', (chunk: Buffer) => res.write(chunk));
  req.on('end', () => res.end());
};

test('a chunk goes client -> backend -> client before the next chunk is sent', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'echo', { handler: echo });
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);

  const received: string[] = [];
  const done = new Promise<{ status: number; backend: unknown }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: lb.port, path: '/echo', method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        received.push(chunk);
        const joined = received.join('');
        // Each chunk is sent only once the previous one came back: only streaming can finish.
        if (joined === 'one;') req.write('two;');
        else if (joined === 'one;two;') req.end('three;');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, backend: res.headers['x-backend'] }));
      res.on('error', reject);
    });
    req.on('error', reject);
    t.after(() => req.destroy());
    req.write('one;');
  });
  const reply = await done;
  assert.equal(reply.status, 200);
  assert.equal(reply.backend, backend.id);
  assert.equal(received.join(''), 'one;two;three;');
});

test('a 4 MiB body arrives intact both ways, with and without content-length', { timeout: 30_000 }, async (t) => {
  const backend = await startBackend(t, 'echo', { handler: echo });
  const lb = await startBalancer(t, { BACKENDS: backend.id });
  await waitForUp(lb, [backend.id]);
  const body = randomBytes(4 * 1024 * 1024);
  const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

  for (const headers of [{ 'content-length': String(body.length) }, { 'transfer-encoding': 'chunked' }]) {
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: lb.port, path: '/', method: 'PUT', agent: false, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(echoed.length, body.length);
    assert.equal(sha(echoed), sha(body));
  }
  assert.deepEqual(backend.requests.map((r) => r.method), ['PUT', 'PUT']);
  assert.equal(backend.requests[0]?.headers['content-length'], String(body.length), 'a known length is passed on');
});

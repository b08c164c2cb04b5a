// When the connection to a backend cannot be made, the request has not reached it: it goes
// to the next healthy backend (each backend at most once), and the dead backend is marked
// down at once (a passive check) without waiting for the active checks.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test, type TestContext } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { waitFor } from './helpers/wait-for.js';

// Active checks run once, when the backends join; only traffic can notice a death.
const NO_BACKGROUND_CHECKS = { HEALTH_INTERVAL_MS: '600000' };

test('a refused connection is retried on the next backend and marks the dead one down', { timeout: 20_000 }, async (t) => {
  const [dead, alive] = await startBackends(t, ['dead', 'alive']);
  assert.ok(dead && alive);
  const lb = await startBalancer(t, { BACKENDS: `${dead.id},${alive.id}`, ...NO_BACKGROUND_CHECKS });
  await waitForUp(lb, [dead.id, alive.id]);
  await dead.stop();

  // The cursor starts at the first backend: the dead one.
  const reply = await lb.client.get('/first');
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['x-backend'], alive.id);
  assert.equal(reply.body, 'alive GET /first\n');
  assert.deepEqual(alive.requests.map((r) => r.url), ['/first']);

  const status = await lb.status();
  const deadStatus = status.backends.find((b) => b.id === dead.id);
  assert.equal(deadStatus?.state, 'down', 'marked down by the failed connection');
  assert.equal(deadStatus?.failures, 1);
  assert.equal(status.totals['retries'], 1);
  assert.equal(lb.logs.lines().find((line) => line['backend'] === dead.id && line['code'] === 'LB_UPSTREAM_UNREACHABLE')?.['cause'], 'ECONNREFUSED');

  // Down now: no more attempts on it, so no more retries.
  for (let i = 0; i < 4; i++) assert.equal((await lb.client.get('/')).headers['x-backend'], alive.id);
  assert.equal((await lb.status()).totals['retries'], 1);
});

test('when every backend refuses, each is tried once and the client gets 503', { timeout: 20_000 }, async (t) => {
  const backends = await startBackends(t, ['a', 'b', 'c']);
  const lb = await startBalancer(t, { BACKENDS: backends.map((b) => b.id).join(','), ...NO_BACKGROUND_CHECKS });
  await waitForUp(lb, backends.map((b) => b.id));
  await Promise.all(backends.map((b) => b.stop()));

  const reply = await lb.client.get('/');
  assert.equal(reply.status, 503);
  assert.match(reply.body, /^No healthy backend is available/);
  const status = await lb.status();
  assert.deepEqual(
    status.backends.map((b) => [b.state, b.failures]),
    [
      ['down', 1],
      ['down', 1],
      ['down', 1],
    ],
  );
  assert.equal(status.totals['retries'], 2, 'three attempts are two retries');
});

test('a request with a body is retried on the next backend when the connection is refused', { timeout: 20_000 }, async (t) => {
  const [dead, alive] = await startBackends(t, ['dead', 'alive']);
  assert.ok(dead && alive);
  alive.handler = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => res.end(`alive got ${Buffer.concat(chunks).toString()}`));
  };
  const lb = await startBalancer(t, { BACKENDS: `${dead.id},${alive.id}`, ...NO_BACKGROUND_CHECKS });
  await waitForUp(lb, [dead.id, alive.id]);
  await dead.stop();

  const reply = await lb.client.request('/form', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'name=value' });
  assert.equal(reply.status, 200, reply.body);
  assert.equal(reply.headers['x-backend'], alive.id);
  assert.equal(reply.body, 'alive got name=value');
  assert.equal(alive.requests.length, 1);
});

/** An HTTP backend in a process of its own, so SIGSTOP can freeze it; its accept queue holds two. */
async function startFreezableBackend(t: TestContext): Promise<{ id: string; port: number; freeze(): Promise<void> }> {
  const script =
    "const s = require('http').createServer((q, r) => r.end('frozen ' + q.url));" +
    "s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port));";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  // SIGSTOP takes effect asynchronously: frozen once the kernel shows the process stopped (T).
  const stopped = (): boolean => / T /.test(readFileSync(`/proc/${child.pid}/stat`, 'utf8').replace(/^\d+ \(.*\)/, ''));
  const freeze = async (): Promise<void> => {
    child.kill('SIGSTOP');
    await waitFor(stopped, { what: 'the backend process to be stopped' });
  };
  return { id: `127.0.0.1:${port}`, port, freeze };
}

test('a connection that is not made within UPSTREAM_CONNECT_TIMEOUT_MS is retried on the next backend', { timeout: 20_000 }, async (t) => {
  const frozen = await startFreezableBackend(t);
  const [alive] = await startBackends(t, ['alive']);
  assert.ok(alive);
  const lb = await startBalancer(t, { BACKENDS: `${frozen.id},${alive.id}`, UPSTREAM_CONNECT_TIMEOUT_MS: '300', ...NO_BACKGROUND_CHECKS });
  await waitForUp(lb, [frozen.id, alive.id]);

  // Frozen, and its accept queue filled: the kernel drops the balancer's SYN, so the
  // connection is neither refused nor made until the connect timeout.
  await frozen.freeze();
  // (Reset when the frozen process is killed after the test: not an error of the test.)
  const fillers = [0, 1].map(() => connect(frozen.port, '127.0.0.1').on('error', () => {}));
  t.after(() => fillers.forEach((socket) => socket.destroy()));
  await Promise.all(fillers.map((socket) => once(socket, 'connect')));

  // The cursor starts at the first backend: the frozen one.
  const reply = await lb.client.get('/first');
  assert.equal(reply.status, 200, reply.body);
  assert.equal(reply.headers['x-backend'], alive.id);
  assert.equal(reply.body, 'alive GET /first\n');
  assert.deepEqual(alive.requests.map((r) => r.url), ['/first']);
  const status = await lb.status();
  assert.equal(status.backends.find((b) => b.id === frozen.id)?.state, 'down', 'marked down by the connect timeout');
  assert.equal(status.totals['retries'], 1);
  const down = lb.logs.lines().find((line) => line['backend'] === frozen.id && line['code'] === 'LB_UPSTREAM_UNREACHABLE');
  assert.equal(down?.['cause'], 'UND_ERR_CONNECT_TIMEOUT', 'the connection timed out; it was not refused');
});

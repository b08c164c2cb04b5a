// The balancer as a process, the way `npm start` runs it: a bad variable stops it with
// exit 1 and one line; WORKERS=2 runs two processes on one port whose /_lb/status adds up
// to the whole picture, each with the Node flags it is started with; SIGTERM ends it with exit 0.
// The spread of a burst over the workers is checked where this Node has reusePort (22.12+);
// on the machine's Node 20 only the Docker e2e, whose images run Node 22, checks it.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { BALANCER_NODE_FLAGS } from '@visit-counter/shared';
import { freePort, spawnMain } from '@visit-counter/shared/test-helpers';
import { portSharing } from '../src/port-sharing.js';
import { startBackends } from './helpers/fake-backend.js';
import { send } from './helpers/http-client.js';
import { waitFor } from './helpers/wait-for.js';
import { requestsPerWorker, type MergedBackends } from './helpers/worker-shares.js';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

test('a bad variable stops the balancer with exit 1 and one line naming it', { timeout: 30_000 }, async (t) => {
  const main = spawnMain(t, PACKAGE_DIR, { BACKENDS: '127.0.0.1:1', HEALTH_INTERVAL_MS: 'abc' });
  const { code } = await main.exited;
  assert.equal(code, 1);
  assert.equal(main.stderr(), 'balancer: invalid configuration: HEALTH_INTERVAL_MS="abc": expected a positive integer\n');
});

const MiB = 1024 * 1024;

test('WORKERS=2 serves on one port, spreads a burst of connections over both workers where Node has reusePort, and /_lb/status shows both with the heap limit of the balancer flags; SIGTERM exits 0', { timeout: 60_000 }, async (t) => {
  const backends = await startBackends(t, ['a', 'b']);
  const port = await freePort();
  const main = spawnMain(t, PACKAGE_DIR, {
    PORT: String(port),
    HOST: '127.0.0.1',
    WORKERS: '2',
    BACKENDS: backends.map((b) => b.id).join(','),
    HEALTH_INTERVAL_MS: '100',
    LOG_LEVEL: 'warn',
  }, BALANCER_NODE_FLAGS);
  const status = () => send(port, '/_lb/status').then((reply) => JSON.parse(reply.body) as Record<string, any>);
  await waitFor(async () => {
    const current = await status();
    return current['workers'] === 2 && current['totals'].up === 2;
  }, { timeoutMs: 30_000, what: 'two workers with both backends up' });

  for (let i = 0; i < 20; i++) {
    const reply = await send(port, '/');
    assert.equal(reply.status, 200, reply.body);
  }
  const merged = await status();
  assert.equal(merged['totals'].requests, 20, 'the requests of both workers add up');
  assert.equal(
    merged['backends'].reduce((sum: number, b: { requests: number }) => sum + b.requests, 0),
    20,
  );
  assert.equal(backends.reduce((sum, b) => sum + b.requests.length, 0), 20);
  // The workers run with the primary's flags: a 1 GiB old generation plus the young one.
  const { rssBytes, primaryRssBytes, heapUsedBytes, heapLimitBytes } = merged['memory'];
  assert.ok(heapLimitBytes >= 1024 * MiB && heapLimitBytes < 1200 * MiB, `heap limit ${heapLimitBytes / MiB} MiB`);
  assert.ok(heapUsedBytes > 0 && primaryRssBytes > 10 * MiB, `${heapUsedBytes} bytes of heap, the primary ${primaryRssBytes} resident`);
  // Three Node processes: each holds more than its heap in use, so the whole is well above both.
  assert.ok(rssBytes > primaryRssBytes + heapUsedBytes, `${rssBytes} resident in all`);

  // A burst of new connections: from one shared socket, whichever worker wakes first may take
  // nearly all of them; with a socket each (SO_REUSEPORT), the kernel spreads them.
  const sharing = portSharing(2, port, process.versions.node, process.platform);
  assert.equal(merged['node'], process.versions.node);
  assert.equal(merged['portSharing'], sharing);
  const before = requestsPerWorker(merged as MergedBackends);
  const burst = await Promise.all(Array.from({ length: 100 }, () => send(port, '/')));
  assert.deepEqual(new Set(burst.map((reply) => reply.status)), new Set([200]));
  const after = requestsPerWorker((await status()) as MergedBackends);
  const shares = [...after].map(([worker, requests]) => requests - (before.get(worker) ?? 0));
  assert.equal(shares.reduce((sum, n) => sum + n, 0), 100);
  if (sharing === 'reuseport') {
    // 100 connections hashed over two sockets: fewer than 25 on either has odds of about 1 in 5 million.
    assert.ok(shares.length === 2 && shares.every((n) => n >= 25), `requests per worker: ${shares.join(', ')}`);
  } else {
    t.diagnostic(`Node ${process.versions.node} has no reusePort: the workers shared one socket; requests per worker: ${shares.join(', ')}`);
  }

  main.child.kill('SIGTERM');
  const { code } = await main.exited;
  assert.equal(code, 0);
});

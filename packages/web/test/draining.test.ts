// A replica told to stop serves on for SHUTDOWN_DRAIN_MS, flagged as draining: visits still
// count and say so in a header, /readyz says 503 (with or without a query), and the probes a
// balancer sends meanwhile log no warning each, since failing them is the plan.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, startTestRedis, startWeb, visitsIn } from './support.js';

test('while draining: visits count and are flagged, /readyz is 503, and probes warn nobody', { timeout: 30_000 }, async (t) => {
  const redis = await startTestRedis(t);
  const { service, port, logs } = await startWeb(t, redis, { SHUTDOWN_DRAIN_MS: '5000' });
  const earlier = logs.lines().length; // start-up may have warned while Redis connected
  const closed = service.close();

  const visit = await get(port, '/');
  assert.equal(visit.status, 200);
  assert.equal(visitsIn(visit.body), 1);
  assert.equal(visit.headers['x-backend-draining'], '1');
  for (const path of ['/readyz', '/readyz?from=balancer']) {
    const readyz = await get(port, path, { headers: { accept: 'application/json' } });
    assert.equal(readyz.status, 503, path);
    assert.equal(JSON.parse(readyz.body).code, 'WEB_SHUTTING_DOWN', path);
  }
  assert.equal((await get(port, '/healthz')).status, 200, 'alive, only not ready');

  const lines = logs.lines().slice(earlier);
  assert.deepEqual(lines.filter((line) => line['level'] === 40), [], 'no warning per probe');
  assert.deepEqual(
    lines.filter((line) => line['path'] === '/readyz?from=balancer').map((line) => line['level']),
    [],
    'probe access lines are debug (not written at the default info level), query or not',
  );
  await closed;
  assert.equal(await redis.getNumber('visits'), 1);
});

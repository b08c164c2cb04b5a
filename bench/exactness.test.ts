// The benchmark's exactness checks at a small scale, on the real topology built from the
// factories (real redis-server, two web replicas, the balancer in front): concurrent visits
// each show a distinct count, the counts are contiguous, and Redis grows by exactly the number
// of 200s. Also that the checks can fail, and (when wrk is installed) that the drained wrk
// visit script counts exactly. No timing is asserted: only counts.
// Run: node --conditions=source --import tsx --test bench/exactness.test.ts

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createLogger } from '@visit-counter/shared';
import { captureLogs, startRedis, type RedisServer } from '@visit-counter/shared/test-helpers';
import { loadWebConfig } from '@visit-counter/web/config';
import { createWebService } from '@visit-counter/web/service';
import { createBalancer } from '../packages/balancer/src/balancer.js';
import { loadBalancerConfig } from '../packages/balancer/src/config.js';
import { checkDistinctCounts } from './lib/distinct.js';
import { haveWrk, runWrk } from './lib/load.js';
import { stopAll } from './lib/processes.js';
import { measure } from './lib/rounds.js';

interface Topology {
  redis: RedisServer;
  url: string;
  counter: () => Promise<number>;
}

async function startTopology(t: TestContext): Promise<Topology> {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const replicas: string[] = [];
  for (const name of ['web-1', 'web-2']) {
    // A generous Redis deadline: counting is the subject, not a slow CI machine's 503s.
    const config = loadWebConfig({ PORT: '0', HOST: '127.0.0.1', REDIS_URL: redis.url, INSTANCE_NAME: name, REDIS_TIMEOUT_MS: '5000' }, name);
    const service = createWebService(config, createLogger({ name, destination: captureLogs().stream }));
    t.after(() => service.close());
    replicas.push(`127.0.0.1:${await service.listen()}`);
  }
  const config = loadBalancerConfig({ PORT: '0', HOST: '127.0.0.1', BACKENDS: replicas.join(','), HEALTH_INTERVAL_MS: '50', LOG_LEVEL: 'warn' });
  const balancer = createBalancer(config, { logger: createLogger({ name: 'balancer', destination: captureLogs().stream }) });
  t.after(() => balancer.close());
  const port = await balancer.listen();
  for (let i = 0; i < 200 && balancer.pool.list().some((backend) => backend.state !== 'up'); i++) {
    await balancer.health.checkAll();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.ok(balancer.pool.list().every((backend) => backend.state === 'up'), 'both replicas up');
  return { redis, url: `http://127.0.0.1:${port}/`, counter: () => redis.getNumber('visits') };
}

test('concurrent visits through the balancer: every count shown once, contiguous, Redis grows by the 200s', { timeout: 60_000 }, async (t) => {
  const { url, counter } = await startTopology(t);
  const report = await checkDistinctCounts(url, counter, 600, 60);
  assert.equal(report.failed, 0, JSON.stringify(report));
  assert.equal(report.ok, 600);
  assert.equal(report.distinct, 600);
  assert.equal(report.counterDelta, 600);
  assert.ok(report.contiguous, JSON.stringify(report));
  assert.equal(report.pass, true);
});

test('the count check fails when Redis counted a visit that no answer showed', { timeout: 60_000 }, async (t) => {
  const { url, redis, counter } = await startTopology(t);
  // A visit counted behind the checker's back once the visits have run: the first reading
  // that sees them adds one more that no answer shows.
  let initial: number | undefined;
  let sneaked = false;
  const sneaky = async (): Promise<number> => {
    const value = await counter();
    initial ??= value;
    if (!sneaked && value > initial) {
      sneaked = true;
      await redis.command('INCR', 'visits');
      return counter();
    }
    return value;
  };
  const report = await checkDistinctCounts(url, sneaky, 50, 5);
  assert.equal(report.ok, 50);
  assert.equal(report.counterDelta, 51);
  assert.equal(report.pass, false);
});

test('the drained wrk visit run counts exactly what Redis counted', { timeout: 60_000, skip: haveWrk() ? false : 'wrk not installed' }, async (t) => {
  const { url, counter } = await startTopology(t);
  t.after(() => stopAll());
  const settings = { generator: 'wrk' as const, connections: 20, threads: 1, durationS: 1, drainMs: 1000, timeoutS: 10 };
  const run = await measure({ id: 'ours', label: 'balancer', url, counter }, settings, 1, 1, 'exact');
  assert.ok(run.exactness, 'an exactness result');
  assert.equal(run.exactness.kind, 'drained');
  assert.equal(run.exactness.unanswered, 0);
  assert.ok(run.exactness.visitsOk > 0);
  assert.equal(run.exactness.counterDelta, run.exactness.visitsOk);
  assert.equal(run.exactness.exact, true);
  // The plain script cannot see visits; its answers all arrive as 2xx through the drain path too.
  const plain = await runWrk({ url: url + 'healthz', connections: 5, threads: 1, durationS: 1 });
  assert.equal(plain.non2xx, 0);
  assert.equal(plain.visits, undefined);
});

// A web replica that gets SIGTERM while requests flow: it flags its answers as draining,
// the balancer takes it out of rotation at once, and it closes only after that. No request
// fails, none is counted twice, and Redis holds exactly the number of 200s.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRedis } from '@visit-counter/shared/test-helpers';
import { startBalancer, waitForStates } from './helpers/balancer.js';
import { startReplica } from './helpers/replica.js';
import { waitFor } from './helpers/wait-for.js';

test('a replica shutting down mid-stream fails no request and leaves rotation at once', { timeout: 30_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const one = await startReplica(t, 'web-1', redis.url, { SHUTDOWN_DRAIN_MS: '5000' });
  const two = await startReplica(t, 'web-2', redis.url, { SHUTDOWN_DRAIN_MS: '5000' });
  // Checks far apart: taking web-1 out must come from its draining answers, not a failed check.
  const lb = await startBalancer(t, { BACKENDS: `${one.id},${two.id}`, HEALTH_INTERVAL_MS: '100000' });
  // The replicas are ready once they have seen Redis; step the checks until both pass.
  await waitFor(async () => {
    await lb.balancer.health.checkAll();
    return lb.balancer.pool.list().every((backend) => backend.state === 'up');
  }, { what: 'both replicas up' });

  const counts: number[] = [];
  const failures: string[] = [];
  let served = 0;
  const visit = async (): Promise<string> => {
    const reply = await lb.client.get('/');
    if (reply.status !== 200) {
      failures.push(`${reply.status} ${reply.body}`);
      return '';
    }
    served += 1;
    counts.push(Number(/visited (\d+) times/.exec(reply.body)?.[1]));
    return /hostname is (\S+)/.exec(reply.body)?.[1] ?? '';
  };

  for (let i = 0; i < 20; i++) await visit();
  const closing = one.service.close();
  // Four concurrent streams on kept-alive connections while web-1 drains (it still serves).
  // Once the balancer has it down, every further request must go to web-2.
  let listeningWhenDown: boolean | undefined;
  const afterDown: string[] = [];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 2_000 && afterDown.length < 40; i++) {
        const down = lb.balancer.pool.get(one.id)?.state === 'down';
        if (down) listeningWhenDown ??= one.service.server.listening;
        const name = await visit();
        if (down) afterDown.push(name);
      }
    }),
  );
  assert.equal(listeningWhenDown, true, 'web-1 left rotation while it still served: its flag did it, not a closed connection');
  assert.deepEqual([...new Set(afterDown)], ['web-2']);
  await waitForStates(lb, { [one.id]: 'down', [two.id]: 'up' });
  await closing;
  const afterwards: string[] = [];
  for (let i = 0; i < 20; i++) afterwards.push(await visit());

  assert.deepEqual(failures, []);
  assert.deepEqual([...new Set(afterwards)], ['web-2'], 'only web-2 serves once web-1 is gone');
  assert.equal(new Set(counts).size, counts.length, 'no count shown twice');
  assert.equal(await redis.getNumber('visits'), served);
});

// A backend killed mid-run is taken out: every request still succeeds on the others, and
// /_lb/status shows it down. Started again, it comes back after its checks pass and gets
// its turn in the round robin again.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackends } from './helpers/fake-backend.js';
import { servedBy, startBalancer, waitForUp } from './helpers/balancer.js';
import { waitFor } from './helpers/wait-for.js';

test('a backend that dies is taken out, and comes back after its checks pass', { timeout: 30_000 }, async (t) => {
  const [a, b, c] = await startBackends(t, ['a', 'b', 'c']);
  assert.ok(a && b && c);
  const lb = await startBalancer(t, { BACKENDS: [a.id, b.id, c.id].join(','), HEALTH_RISE: '2', HEALTH_FALL: '3' });
  await waitForUp(lb, [a.id, b.id, c.id]);

  assert.deepEqual(await servedBy(lb.client, 6), [a.id, b.id, c.id, a.id, b.id, c.id]);

  await b.stop();
  // Mid-run: whatever the balancer knows yet, no client sees an error.
  const during = await servedBy(lb.client, 12);
  assert.ok(!during.includes(b.id), `b answered after it was stopped: ${during.join(' ')}`);
  assert.deepEqual(new Set(during), new Set([a.id, c.id]));

  // Traffic may have marked it down first; the active checks confirm it.
  const down = await waitFor(
    async () => {
      const status = await lb.status();
      const seen = status.backends.find((x) => x.id === b.id);
      return seen?.state === 'down' && seen.lastCheck?.ok === false ? status : undefined;
    },
    { what: 'b down with a failed check' },
  );
  assert.deepEqual(
    down.backends.map((x) => x.state),
    ['up', 'down', 'up'],
  );
  const seenByB = b.requests.length;
  const after = await servedBy(lb.client, 6);
  assert.deepEqual(new Set(after), new Set([a.id, c.id]));
  assert.equal(after.filter((id) => id === a.id).length, 3, 'the two left share evenly');
  assert.equal(b.requests.length, seenByB);

  await b.start();
  await waitForUp(lb, [a.id, b.id, c.id]);
  const back = await servedBy(lb.client, 6);
  assert.equal(back.filter((id) => id === b.id).length, 2, `b is back in the turns: ${back.join(' ')}`);
  assert.equal(back.filter((id) => id === a.id).length, 2);
  assert.equal(back.filter((id) => id === c.id).length, 2);
});

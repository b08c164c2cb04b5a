// With WORKERS=2, a worker that dies after it has served is replaced, but workers that keep
// dying are not forked again forever: past the limit (BALANCER_DEFAULTS.workerExitLimit exits
// within workerExitWindowMs) the balancer stops with exit 1 and one fatal sentence, the last line.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BALANCER_DEFAULTS } from '../src/config.js';
import { waitFor } from './helpers/wait-for.js';
import { startWorkersBalancer } from './helpers/workers-process.js';

test('WORKERS=2: killed workers are replaced until they have died more than the limit within the window, then the balancer exits 1 with one fatal line', { timeout: 90_000 }, async (t) => {
  // MAX_ACCEPT=1: no helper process. Where the workers share one socket (Node without
  // reusePort), a worker killed while its helper still held copies of that socket would leave
  // the port bound for a moment after every worker is gone, and a replacement that cannot
  // listen stops the balancer at once: the test would see that instead of the crash loop.
  const { main, status } = await startWorkersBalancer(t, { BACKENDS: '127.0.0.1:1', HEALTH_INTERVAL_MS: '600000', MAX_ACCEPT: '1' });
  const limit = BALANCER_DEFAULTS.workerExitLimit;
  const killed = new Set<number>();
  let exited: { code: number | null } | undefined;
  void main.exited.then((result) => (exited = result));
  // Kill every serving worker the status page names, round after round, one exit more than
  // the limit allows; a balancer that still serves after twice that many has no limit.
  await waitFor(
    async () => {
      if (exited) return true;
      if (killed.size >= limit * 2) return false;
      for (const { pid } of (await status()).perWorker) {
        if (killed.has(pid)) continue;
        killed.add(pid);
        process.kill(pid, 'SIGKILL');
      }
      return false;
    },
    { timeoutMs: 45_000, intervalMs: 50, what: `the balancer to stop after ${limit + 1} worker exits` },
  );
  assert.deepEqual(await main.exited, { code: 1, signal: null }, main.stderr());
  assert.ok(killed.size >= limit + 1 && killed.size <= limit + 2, `${killed.size} workers killed; the balancer printed:\n${main.stdout()}`);

  const replaced = main.logLines().filter((line) => /^balancer worker \d+ exited; starting another$/.test(String(line['msg'])));
  assert.equal(replaced.length, limit, 'each exit within the limit was replaced');
  const fatal = main.logLines().filter((line) => line['level'] === 60);
  const sentence = `Balancer workers exited ${limit + 1} times within ${BALANCER_DEFAULTS.workerExitWindowMs / 1000} s, so the balancer stops instead of starting them again.`;
  assert.deepEqual(fatal.map((line) => line['msg']), [sentence]);
  assert.equal((fatal[0]?.['err'] as { code?: string } | undefined)?.code, 'LB_WORKER_CRASH_LOOP');
  assert.deepEqual(main.logLines().at(-1), fatal[0], 'the fatal line is the last');
});

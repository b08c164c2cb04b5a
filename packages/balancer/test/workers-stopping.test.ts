// With WORKERS=2, stopping: a second SIGTERM (a double Ctrl-C, an impatient supervisor) while the
// balancer stops changes nothing, as with one process: the request in flight still gets its
// answer and the balancer exits 0. Node's default would end the primary at once, and
// node:cluster every worker with it.
// A worker that does not stop cleanly makes the exit code 1.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackend } from './helpers/fake-backend.js';
import { send } from './helpers/http-client.js';
import { waitFor } from './helpers/wait-for.js';
import { startWorkersBalancer } from './helpers/workers-process.js';

test('WORKERS=2: a second SIGTERM while stopping is logged, the request in flight is answered, and the exit code is 0', { timeout: 90_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  const { main, port, status } = await startWorkersBalancer(t, { BACKENDS: backend.id, HEALTH_INTERVAL_MS: '100', LOG_LEVEL: 'info' });
  await waitFor(async () => {
    const current = await status();
    return current.workers === 2 && current.totals['up'] === 1;
  }, { timeoutMs: 30_000, what: 'two workers with the backend up' });

  backend.plan.push('hang');
  const inFlight = send(port, '/slow');
  await waitFor(() => backend.heldCount === 1, { what: 'the request to reach the backend' });

  const said = (message: string) => () => main.logLines().some((line) => String(line['msg']).includes(message));
  main.child.kill('SIGTERM');
  await waitFor(said('stopping 2 workers'), { what: 'the primary to begin stopping' });
  main.child.kill('SIGTERM');
  await waitFor(said('already shutting down'), { what: 'the second signal to be logged' });

  backend.releaseHeld();
  const reply = await inFlight;
  assert.equal(reply.status, 200);
  assert.match(reply.body, /^web GET \/slow/);
  assert.deepEqual(await main.exited, { code: 0, signal: null }, main.stderr());
});

test('WORKERS=2: a worker that does not stop cleanly (killed mid-stop) makes the balancer exit 1, saying so', { timeout: 90_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  const { main, port, status } = await startWorkersBalancer(t, { BACKENDS: backend.id, HEALTH_INTERVAL_MS: '100', LOG_LEVEL: 'info' });
  const running = await waitFor(async () => {
    const current = await status();
    return current.workers === 2 && current.totals['up'] === 1 && current;
  }, { timeoutMs: 30_000, what: 'two workers with the backend up' });

  backend.plan.push('hang'); // one worker stays busy, stopping, until it is killed
  void send(port, '/slow').catch(() => undefined);
  await waitFor(() => backend.heldCount === 1, { what: 'the request to reach the backend' });
  main.child.kill('SIGTERM');
  await waitFor(() => main.logLines().some((line) => String(line['msg']).includes('stopping 2 workers')), { what: 'the primary to begin stopping' });
  for (const { pid } of running.perWorker) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // that one had already stopped, cleanly
    }
  }
  assert.deepEqual(await main.exited, { code: 1, signal: null }, main.stderr());
  assert.ok(main.logLines().some((line) => /^balancer worker \d+ did not stop cleanly$/.test(String(line['msg']))), main.stdout());
});

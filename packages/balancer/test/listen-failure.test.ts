// A balancer that cannot listen (a port already taken, an address this machine does not have)
// exits 1, and its last log line says why in one plain sentence naming HOST and PORT.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { spawnMain } from '@visit-counter/shared/test-helpers';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

test('main.ts exits 1 with a sentence naming HOST and PORT when it cannot listen', { timeout: 30_000 }, async (t) => {
  // A port that is taken for as long as the test runs.
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const takenPort = (taken.address() as { port: number }).port;

  const cases: Array<[Record<string, string>, string]> = [
    [{ HOST: '127.0.0.1', PORT: String(takenPort) }, `The balancer cannot listen on HOST=127.0.0.1 PORT=${takenPort}: another process already listens on that port (EADDRINUSE).`],
    // 192.0.2.0/24 is reserved for documentation: no machine has it.
    [{ HOST: '192.0.2.1', PORT: '8080' }, 'The balancer cannot listen on HOST=192.0.2.1 PORT=8080: that address does not belong to this machine (EADDRNOTAVAIL).'],
  ];
  for (const [env, sentence] of cases) {
    // A backend nobody listens on: the balancer starts all the same, and fails only at listen().
    const main = spawnMain(t, PACKAGE_DIR, { BACKENDS: '127.0.0.1:1', HEALTH_INTERVAL_MS: '600000', LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env });
    assert.deepEqual(await main.exited, { code: 1, signal: null }, main.stderr());
    const fatal = main.logLines().filter((line) => line['level'] === 60);
    assert.equal(fatal.length, 1, main.stdout());
    assert.equal(fatal[0]?.['msg'], sentence);
    assert.equal((fatal[0]?.['err'] as { code?: string; message?: string } | undefined)?.message, sentence);
    assert.equal((fatal[0]?.['err'] as { code?: string } | undefined)?.code, 'LB_LISTEN_FAILED');
    assert.deepEqual(main.logLines().at(-1), fatal[0], 'the fatal line is the last');
  }
});

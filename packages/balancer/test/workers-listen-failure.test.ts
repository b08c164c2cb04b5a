// With WORKERS=2 a balancer that cannot listen stops as one process does: the primary stops
// its workers and exits 1, and the reason is one fatal line, printed once, the last.

import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { assertListenFailures, spawnMain } from '@visit-counter/shared/test-helpers';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

test('WORKERS=2: a balancer that cannot listen exits 1 with one fatal line naming HOST and PORT, instead of restarting its workers', { timeout: 60_000 }, async (t) => {
  await assertListenFailures(t, 'The balancer', 'LB_LISTEN_FAILED', (env) =>
    spawnMain(t, PACKAGE_DIR, { BACKENDS: '127.0.0.1:1', HEALTH_INTERVAL_MS: '600000', WORKERS: '2', ...env }),
  );
});

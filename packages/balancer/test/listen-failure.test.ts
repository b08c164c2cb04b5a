// A balancer that cannot listen (a port already taken, an address this machine does not have)
// exits 1, and its last log line says why in one plain sentence naming HOST and PORT.

import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { assertListenFailures, spawnMain } from '@visit-counter/shared/test-helpers';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

test('main.ts exits 1 with a sentence naming HOST and PORT when it cannot listen', { timeout: 30_000 }, async (t) => {
  // A backend nobody listens on: the balancer starts all the same, and fails only at listen().
  await assertListenFailures(t, 'The balancer', 'LB_LISTEN_FAILED', (env) =>
    spawnMain(t, PACKAGE_DIR, { BACKENDS: '127.0.0.1:1', HEALTH_INTERVAL_MS: '600000', ...env }),
  );
});

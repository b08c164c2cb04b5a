// A replica that cannot listen (an address this machine does not have, a port already taken)
// exits 1, and its last log line says why in one plain sentence naming HOST and PORT.

import { test } from 'node:test';
import { assertListenFailures } from '@visit-counter/shared/test-helpers';
import { spawnMain } from './support.js';

test('main.ts exits 1 with a sentence naming HOST and PORT when it cannot listen', { timeout: 30_000 }, async (t) => {
  await assertListenFailures(t, 'The replica', 'WEB_LISTEN_FAILED', (env) => spawnMain(t, { REDIS_URL: 'redis://127.0.0.1:1', ...env }));
});

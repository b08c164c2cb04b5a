// A replica that cannot listen (an address this machine does not have, a port already taken)
// exits 1, and its last log line says why in one plain sentence naming HOST and PORT.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { spawnMain } from './support.js';

test('main.ts exits 1 with a sentence naming HOST and PORT when it cannot listen', { timeout: 30_000 }, async (t) => {
  // A port that is taken for as long as the test runs.
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const takenPort = (taken.address() as { port: number }).port;

  const cases: Array<[Record<string, string>, string]> = [
    // 192.0.2.0/24 is reserved for documentation: no machine has it.
    [{ HOST: '192.0.2.1', PORT: '3000' }, 'The replica cannot listen on HOST=192.0.2.1 PORT=3000: that address does not belong to this machine (EADDRNOTAVAIL).'],
    [{ HOST: '127.0.0.1', PORT: String(takenPort) }, `The replica cannot listen on HOST=127.0.0.1 PORT=${takenPort}: another process already listens on that port (EADDRINUSE).`],
  ];
  for (const [env, sentence] of cases) {
    const main = spawnMain(t, { REDIS_URL: 'redis://127.0.0.1:1', LOG_FORMAT: 'json', ...env });
    assert.deepEqual(await main.exited, { code: 1, signal: null }, main.stderr());
    const fatal = main.logLines().filter((line) => line['level'] === 60);
    assert.equal(fatal.length, 1, main.stdout());
    assert.equal((fatal[0]?.['err'] as { message?: string } | undefined)?.message, sentence);
  }
});

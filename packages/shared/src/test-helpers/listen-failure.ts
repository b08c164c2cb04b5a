// The start-up failure both services share: a main.ts that cannot listen (a port already
// taken, an address this machine does not have) exits 1, and its one fatal line, the last,
// says why in one plain sentence naming HOST and PORT.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Cleanup, MainProcess } from './spawn-main.js';

/**
 * Runs `start` (a service's main.ts with the env given) on a port held for the test and on
 * 192.0.2.1 (reserved for documentation: no machine has it), and checks each run's fatal line:
 * `who` ("The replica") opens its sentence, `code` is its error's stable code.
 */
export async function assertListenFailures(t: Cleanup, who: string, code: string, start: (env: Record<string, string>) => MainProcess): Promise<void> {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const takenPort = (taken.address() as { port: number }).port;

  const cases: Array<[Record<string, string>, string]> = [
    [{ HOST: '127.0.0.1', PORT: String(takenPort) }, `${who} cannot listen on HOST=127.0.0.1 PORT=${takenPort}: another process already listens on that port (EADDRINUSE).`],
    [{ HOST: '192.0.2.1', PORT: '8080' }, `${who} cannot listen on HOST=192.0.2.1 PORT=8080: that address does not belong to this machine (EADDRNOTAVAIL).`],
  ];
  for (const [env, sentence] of cases) {
    const main = start({ LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env });
    assert.deepEqual(await main.exited, { code: 1, signal: null }, main.stderr());
    const fatal = main.logLines().filter((line) => line['level'] === 60);
    assert.equal(fatal.length, 1, main.stdout());
    assert.equal(fatal[0]?.['msg'], sentence);
    const error = fatal[0]?.['err'] as { code?: string; message?: string } | undefined;
    assert.equal(error?.message, sentence);
    assert.equal(error?.code, code);
    assert.deepEqual(main.logLines().at(-1), fatal[0], 'the fatal line is the last');
  }
}

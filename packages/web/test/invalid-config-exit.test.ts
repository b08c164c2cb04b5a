// A bad environment variable stops the real process at start-up: exit code 1 and one line
// on stderr naming the variable, the value and what was expected; it never listens.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnMain } from './support.js';

test('main.ts exits 1 with one stderr line naming the bad variable', { timeout: 30_000 }, async (t) => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: 'eighty' }, 'web: invalid configuration: PORT="eighty": expected a TCP port number from 0 to 65535'],
    [{ REDIS_TIMEOUT_MS: '-3' }, 'web: invalid configuration: REDIS_TIMEOUT_MS="-3": expected an integer from 10 to 60000'],
    // Not validated before, these failed at listen() with a stack that never named HOST.
    [{ HOST: '999.1.1.1' }, 'web: invalid configuration: HOST="999.1.1.1": expected an IP address (such as 0.0.0.0 or ::) or a host name, without a port'],
    [{ HOST: 'localhost:3000' }, 'web: invalid configuration: HOST="localhost:3000": expected an IP address (such as 0.0.0.0 or ::) or a host name, without a port'],
    // ioredis would have sent SELECT NaN and crashed the replica a moment after it started.
    [
      { REDIS_URL: 'redis://127.0.0.1:1/abc' },
      `web: invalid configuration: REDIS_URL="redis://127.0.0.1:1/abc": expected a database number (0 or more) as the URL's path, such as redis://cache:6379/0, or no path`,
    ],
    // The password stays out of the line, which lands in every log collector.
    [
      { REDIS_URL: 'redis://:s3cret@127.0.0.1:1/zz' },
      `web: invalid configuration: REDIS_URL="redis://:***@127.0.0.1:1/zz": expected a database number (0 or more) as the URL's path, such as redis://cache:6379/0, or no path`,
    ],
    [{ REDIS_URL: 'redis://admin:s3cret@cache:port' }, 'web: invalid configuration: REDIS_URL="redis://admin:***@cache:port": expected a URL starting with redis:// or rediss://'],
    [{ REDIS_URL: 'redis://:s3cr/et@cache:6379' }, 'web: invalid configuration: REDIS_URL="redis://:***@cache:6379": expected a URL starting with redis:// or rediss://'],
    [
      { SHUTDOWN_GRACE_MS: '3000000000' },
      'web: invalid configuration: SHUTDOWN_GRACE_MS="3000000000": expected a non-negative integer no larger than 2147483647 (about 24.8 days, the longest timer Node.js allows)',
    ],
  ];
  for (const [env, line] of cases) {
    const main = spawnMain(t, { PORT: '0', HOST: '127.0.0.1', REDIS_URL: 'redis://127.0.0.1:1', ...env });
    assert.deepEqual(await main.exited, { code: 1, signal: null }, main.stderr());
    assert.equal(main.stderr(), `${line}\n`);
    assert.deepEqual(main.logLines(), [], 'nothing is logged: the replica never started');
  }
});

// The logger: one JSON object per line with the service name, filtered by level;
// LOG_LEVEL and LOG_FORMAT are validated like every other variable.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { createLogger, readLogOptions } from '@visit-counter/shared';
import { captureLogs } from '@visit-counter/shared/test-helpers';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

test('the logger writes one JSON line per entry with the name, level and message', () => {
  const logs = captureLogs();
  const logger = createLogger({ name: 'web', destination: logs.stream });
  logger.info({ port: 3000 }, 'listening on port %d', 3000);
  logger.warn('redis unreachable');
  const lines = logs.lines();
  assert.equal(lines.length, 2);
  assert.deepEqual(
    lines.map(({ name, level, msg, port }) => ({ name, level, msg, port })),
    [
      { name: 'web', level: 30, msg: 'listening on port 3000', port: 3000 },
      { name: 'web', level: 40, msg: 'redis unreachable', port: undefined },
    ],
  );
  assert.equal(typeof lines[0]?.['time'], 'number');
});

test('entries below the level are not written', () => {
  const logs = captureLogs();
  const logger = createLogger({ name: 'web', level: 'warn', destination: logs.stream });
  logger.debug('hidden');
  logger.info('hidden too');
  logger.error('shown');
  assert.deepEqual(logs.lines().map((line) => line['msg']), ['shown']);
});

test('readLogOptions defaults to info and JSON and rejects unknown values', () => {
  assert.deepEqual(readLogOptions({}), { level: 'info', format: 'json' });
  assert.deepEqual(readLogOptions({ LOG_LEVEL: 'DEBUG', LOG_FORMAT: 'pretty' }), { level: 'debug', format: 'pretty' });
  assert.throws(() => readLogOptions({ LOG_LEVEL: 'verbose' }), {
    name: 'ConfigError',
    message: 'LOG_LEVEL="verbose": expected one of fatal, error, warn, info, debug, trace, silent',
  });
  assert.throws(() => readLogOptions({ LOG_FORMAT: 'xml' }), { name: 'ConfigError', message: 'LOG_FORMAT="xml": expected one of json, pretty' });
});

test('the pretty format writes one human-readable line per entry to stdout', () => {
  const script = `
    import { createLogger } from '@visit-counter/shared';
    createLogger({ name: 'web', format: 'pretty' }).info({ port: 3000 }, 'listening on port %d', 3000);
  `;
  const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: PACKAGE_DIR,
    encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  const lines = child.stdout.trim().split('\n');
  assert.equal(lines.length, 1, child.stdout);
  assert.match(lines[0] ?? '', /^\[.+\] INFO \(web\): listening on port 3000 \{"port":3000\}$/);
});

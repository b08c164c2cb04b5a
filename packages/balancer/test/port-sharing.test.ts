import assert from 'node:assert/strict';
import { test } from 'node:test';
import { portSharing, supportsReusePort } from '../src/port-sharing.js';

test('which Node.js versions have listen({ reusePort })', () => {
  const cases: Array<[string, boolean]> = [
    ['20.20.2', false],
    ['22.11.0', false],
    ['22.12.0', true],
    ['22.23.3', true],
    ['23.0.0', false],
    ['23.1.0', true],
    ['24.0.0', true],
    ['26.10.0', true],
  ];
  for (const [version, expected] of cases) assert.equal(supportsReusePort(version), expected, version);
});

test('how the workers share the port', () => {
  const cases: Array<[workers: number, port: number, version: string, platform: string, expected: string]> = [
    [1, 8080, '22.12.0', 'linux', 'single'],
    [1, 0, '20.20.2', 'linux', 'single'],
    [2, 8080, '22.12.0', 'linux', 'reuseport'],
    [4, 80, '24.1.0', 'linux', 'reuseport'],
    [2, 8080, '24.1.0', 'freebsd', 'reuseport'],
    [2, 8080, '20.20.2', 'linux', 'shared'],
    [2, 8080, '22.11.0', 'linux', 'shared'],
    // libuv refuses SO_REUSEPORT there: listening would fail.
    [2, 8080, '24.1.0', 'darwin', 'shared'],
    [2, 8080, '24.1.0', 'win32', 'shared'],
    // PORT=0: a socket per worker would give each worker a port of its own.
    [2, 0, '22.12.0', 'linux', 'shared'],
  ];
  for (const [workers, port, version, platform, expected] of cases) {
    assert.equal(portSharing(workers, port, version, platform), expected, `${workers} workers, port ${port}, node ${version} on ${platform}`);
  }
});

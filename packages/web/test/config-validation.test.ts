// The web replica's configuration: every variable has a documented default, and a bad value
// is refused at start-up with a ConfigError naming the variable, the value and the rule.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HTTP_SERVER_DEFAULTS, type Env } from '@visit-counter/shared';
import { WEB_DEFAULTS, loadWebConfig } from '../src/config.js';

const VISIT = { visits: 3, instanceVisits: 2, hostname: 'h', port: 80 };

test('unset (or blank) variables take the documented defaults', () => {
  for (const env of [{}, { PORT: '', REDIS_URL: ' ', LOG_LEVEL: '', MESSAGE_TEMPLATE: '' }] as Env[]) {
    const config = loadWebConfig(env, 'test-host');
    const { messageTemplate, ...rest } = config;
    assert.deepEqual(rest, {
      port: 3000,
      host: undefined,
      redisUrl: 'redis://127.0.0.1:6379',
      redisDatabase: 0,
      redisKey: 'visits',
      redisTimeoutMs: 250,
      redisReconcileMs: 5000,
      instanceName: 'test-host',
      messageTemplateSource: "I've been visited {visits} times, and my hostname is {hostname}",
      shutdownGraceMs: 10_000,
      shutdownDrainMs: 0,
      limits: HTTP_SERVER_DEFAULTS,
      logLevel: 'info',
      logFormat: 'json',
    });
    assert.equal(messageTemplate(VISIT), "I've been visited 3 times, and my hostname is h");
  }
  assert.equal(WEB_DEFAULTS.port, 3000);
  assert.ok(WEB_DEFAULTS.redisTimeoutMs < 1000, 'the default Redis deadline is well under a second');
  assert.ok(WEB_DEFAULTS.redisReconcileMs < WEB_DEFAULTS.shutdownGraceMs, 'a visit held for Redis fits in the shutdown grace');
});

test('set variables are parsed into the configuration', () => {
  const config = loadWebConfig(
    {
      PORT: '8080',
      HOST: '0.0.0.0',
      REDIS_URL: 'redis://cache:6380/1',
      REDIS_KEY: 'site:visits',
      REDIS_TIMEOUT_MS: '500',
      REDIS_RECONCILE_MS: '0',
      INSTANCE_NAME: 'web-2',
      MESSAGE_TEMPLATE: '{hostname}:{port} #{instanceVisits}/{visits}',
      SHUTDOWN_GRACE_MS: '0',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'pretty',
    },
    'test-host',
  );
  assert.equal(config.port, 8080);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.redisUrl, 'redis://cache:6380/1');
  assert.equal(config.redisDatabase, 1);
  assert.equal(config.redisKey, 'site:visits');
  assert.equal(config.redisTimeoutMs, 500);
  assert.equal(config.redisReconcileMs, 0, '0 turns reconciliation off');
  assert.equal(config.instanceName, 'web-2');
  assert.equal(config.messageTemplate(VISIT), 'h:80 #2/3');
  assert.equal(config.shutdownGraceMs, 0);
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.logFormat, 'pretty');
});

test('REDIS_URL names database 0 unless its path (or a db parameter) says another number', () => {
  const cases: Array<[string, number]> = [
    ['redis://cache:6379', 0],
    ['redis://cache:6379/', 0],
    ['redis://cache:6379/0', 0],
    ['redis://cache:6379/15', 15],
    ['redis://cache:6379/016', 16],
    ['rediss://:secret@cache:6380/3', 3],
    ['redis://cache:6379?db=4', 4],
  ];
  for (const [url, database] of cases) assert.equal(loadWebConfig({ REDIS_URL: url }, 'test-host').redisDatabase, database, url);
});

const DATABASE = "a database number (0 or more) as the URL's path, such as redis://cache:6379/0, or no path";

test('a bad value is a ConfigError naming the variable, the value and the rule', () => {
  const cases: Array<[Env, string]> = [
    [{ PORT: 'abc' }, 'PORT="abc": expected a TCP port number from 0 to 65535'],
    [{ PORT: '70000' }, 'PORT="70000": expected a TCP port number from 0 to 65535'],
    [{ PORT: '-1' }, 'PORT="-1": expected a TCP port number from 0 to 65535'],
    [{ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL="http://cache:6379": expected a URL starting with redis:// or rediss://'],
    [{ REDIS_URL: 'cache:6379' }, 'REDIS_URL="cache:6379": expected a URL starting with redis:// or rediss://'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL="not a url": expected a URL starting with redis:// or rediss://'],
    ...['redis://127.0.0.1:6379/abc', 'redis://cache/-1', 'redis://cache/1.5', 'redis://cache/0/1', 'redis://cache/%31', 'rediss://cache?db=two'].map(
      (url): [Env, string] => [{ REDIS_URL: url }, `REDIS_URL=${JSON.stringify(url)}: expected ${DATABASE}`],
    ),
    [{ HOST: '999.1.1.1' }, 'HOST="999.1.1.1": expected an IP address (such as 0.0.0.0 or ::) or a host name, without a port'],
    [{ HOST: 'localhost:3000' }, 'HOST="localhost:3000": expected an IP address (such as 0.0.0.0 or ::) or a host name, without a port'],
    [{ REDIS_TIMEOUT_MS: 'fast' }, 'REDIS_TIMEOUT_MS="fast": expected an integer from 10 to 60000'],
    [{ REDIS_TIMEOUT_MS: '0' }, 'REDIS_TIMEOUT_MS="0": expected an integer from 10 to 60000'],
    [{ REDIS_TIMEOUT_MS: '250ms' }, 'REDIS_TIMEOUT_MS="250ms": expected an integer from 10 to 60000'],
    [{ REDIS_TIMEOUT_MS: '60001' }, 'REDIS_TIMEOUT_MS="60001": expected an integer from 10 to 60000'],
    [{ REDIS_RECONCILE_MS: 'soon' }, 'REDIS_RECONCILE_MS="soon": expected an integer from 0 to 60000'],
    [{ REDIS_RECONCILE_MS: '-1' }, 'REDIS_RECONCILE_MS="-1": expected an integer from 0 to 60000'],
    [{ REDIS_RECONCILE_MS: '2.5' }, 'REDIS_RECONCILE_MS="2.5": expected an integer from 0 to 60000'],
    [{ REDIS_RECONCILE_MS: '5s' }, 'REDIS_RECONCILE_MS="5s": expected an integer from 0 to 60000'],
    [{ REDIS_RECONCILE_MS: '60001' }, 'REDIS_RECONCILE_MS="60001": expected an integer from 0 to 60000'],
    [{ SHUTDOWN_GRACE_MS: '-5' }, 'SHUTDOWN_GRACE_MS="-5": expected a non-negative integer'],
    // Node would fire a longer timer after 1 ms: a grace period that cut every visit at once.
    [
      { SHUTDOWN_GRACE_MS: '3000000000' },
      'SHUTDOWN_GRACE_MS="3000000000": expected a non-negative integer no larger than 2147483647 (about 24.8 days, the longest timer Node.js allows)',
    ],
    [
      { KEEP_ALIVE_TIMEOUT_MS: '2147483648' },
      'KEEP_ALIVE_TIMEOUT_MS="2147483648": expected a positive integer no larger than 2147483647 (about 24.8 days, the longest timer Node.js allows)',
    ],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL="verbose": expected one of fatal, error, warn, info, debug, trace, silent'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT="xml": expected one of json, pretty'],
    [{ MAX_HEADER_SIZE: '100' }, 'MAX_HEADER_SIZE="100": expected an integer from 1024 to 1048576'],
    [
      { MESSAGE_TEMPLATE: 'Hello {name}' },
      'MESSAGE_TEMPLATE="Hello {name}": expected a template whose placeholders are known (unknown placeholder {name}; use {visits}, {instanceVisits}, {hostname}, {port})',
    ],
  ];
  for (const [env, message] of cases) {
    const [variable = ''] = Object.keys(env);
    assert.throws(() => loadWebConfig(env, 'test-host'), { name: 'ConfigError', code: 'CONFIG_INVALID', variable, message }, JSON.stringify(env));
  }
});

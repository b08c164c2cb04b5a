// The environment readers: a good value is parsed, an unset or blank one takes the default,
// and a bad one throws a ConfigError that names the variable, the value and the rule.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConfigError,
  HTTP_SERVER_DEFAULTS,
  maskUrlPassword,
  parseHostPort,
  readBoolean,
  readEnum,
  readHost,
  readHostPort,
  readHostPortList,
  readHttpServerLimits,
  readInteger,
  readOptionalString,
  readPort,
  readString,
  readUrl,
  type Env,
  type IntegerRule,
} from '@visit-counter/shared';

function configError(variable: string, value: string, expected: string): Record<string, unknown> {
  return { name: 'ConfigError', code: 'CONFIG_INVALID', variable, message: `${variable}=${JSON.stringify(value)}: expected ${expected}` };
}

test('readString and readOptionalString trim, and treat unset or blank as unset', () => {
  const cases: Array<[Env, string, string | undefined]> = [
    [{ NAME: 'web-1' }, 'web-1', 'web-1'],
    [{ NAME: '  web-1  ' }, 'web-1', 'web-1'],
    [{ NAME: '' }, 'fallback', undefined],
    [{ NAME: '   ' }, 'fallback', undefined],
    [{}, 'fallback', undefined],
  ];
  for (const [env, expected, optional] of cases) {
    assert.equal(readString(env, 'NAME', 'fallback'), expected, JSON.stringify(env));
    assert.equal(readOptionalString(env, 'NAME'), optional, JSON.stringify(env));
  }
});

test('readInteger accepts integers within the rule and names the rule otherwise', () => {
  const ok: Array<[string | undefined, IntegerRule, number]> = [
    [undefined, { min: 1 }, 99],
    ['', { min: 1 }, 99],
    ['42', { min: 1 }, 42],
    [' 7 ', { min: 1 }, 7],
    ['0', { min: 0 }, 0],
    ['-5', {}, -5],
    ['10', { min: 10, max: 100 }, 10],
    ['100', { min: 10, max: 100 }, 100],
  ];
  for (const [value, rule, expected] of ok) {
    assert.equal(readInteger({ N: value }, 'N', 99, rule), expected, `N=${String(value)}`);
  }
  const bad: Array<[string, IntegerRule, string]> = [
    ['abc', { min: 1 }, 'a positive integer'],
    ['0', { min: 1 }, 'a positive integer'],
    ['1.5', { min: 1 }, 'a positive integer'],
    ['1e3', { min: 1 }, 'a positive integer'],
    ['12ms', { min: 1 }, 'a positive integer'],
    ['99999999999999999999', { min: 1 }, 'a positive integer'],
    ['-1', { min: 0 }, 'a non-negative integer'],
    ['9', { min: 10, max: 100 }, 'an integer from 10 to 100'],
    ['101', { min: 10, max: 100 }, 'an integer from 10 to 100'],
  ];
  for (const [value, rule, expected] of bad) {
    assert.throws(() => readInteger({ N: value }, 'N', 99, rule), configError('N', value, expected), `N=${value}`);
  }
});

test('a *_MS variable is a timer delay: refused above 2147483647 ms, which Node would fire after 1 ms', () => {
  const cap = 'no larger than 2147483647 (about 24.8 days, the longest timer Node.js allows)';
  const ok: Array<[string, string, IntegerRule, number]> = [
    ['GRACE_MS', '2147483647', { min: 0 }, 2_147_483_647],
    ['TIMEOUT_MS', '1', { min: 1 }, 1],
    // Not a timer: only the rule applies.
    ['COUNT', '3000000000', { min: 1 }, 3_000_000_000],
  ];
  for (const [name, value, rule, expected] of ok) {
    assert.equal(readInteger({ [name]: value }, name, 99, rule), expected, `${name}=${value}`);
  }
  const bad: Array<[string, string, IntegerRule, string]> = [
    ['GRACE_MS', '2147483648', { min: 0 }, `a non-negative integer ${cap}`],
    ['GRACE_MS', '3000000000', { min: 0 }, `a non-negative integer ${cap}`],
    ['TIMEOUT_MS', '99999999999999999999', { min: 1 }, `a positive integer ${cap}`],
    ['TIMEOUT_MS', '3000000000', { min: 1 }, `a positive integer ${cap}`],
    ['TIMEOUT_MS', 'soon', { min: 1 }, 'a positive integer'],
    // A rule's own larger max does not lift the cap.
    ['TIMEOUT_MS', '3000000000', { min: 1, max: 5_000_000_000 }, `a positive integer ${cap}`],
    ['WAIT_MS', '3000000000', { min: 10 }, 'an integer from 10 to 2147483647'],
  ];
  for (const [name, value, rule, expected] of bad) {
    assert.throws(() => readInteger({ [name]: value }, name, 99, rule), configError(name, value, expected), `${name}=${value}`);
  }
  // The HTTP server's own timers (both services read them) get the cap too.
  assert.throws(
    () => readHttpServerLimits({ KEEP_ALIVE_TIMEOUT_MS: '3000000000' }),
    configError('KEEP_ALIVE_TIMEOUT_MS', '3000000000', `a positive integer ${cap}`),
  );
});

test('readPort accepts 0 to 65535 and rejects anything else', () => {
  const ok: Array<[string | undefined, number]> = [
    [undefined, 3000],
    ['0', 0],
    ['80', 80],
    ['65535', 65535],
  ];
  for (const [value, expected] of ok) assert.equal(readPort({ PORT: value }, 'PORT', 3000), expected);
  for (const value of ['65536', '-1', 'http', '80.5', '8080a', '1e3']) {
    assert.throws(() => readPort({ PORT: value }, 'PORT', 3000), configError('PORT', value, 'a TCP port number from 0 to 65535'), value);
  }
});

test('readBoolean accepts the usual spellings of true and false in any case', () => {
  const cases: Array<[string | undefined, boolean]> = [
    [undefined, true],
    ['1', true],
    ['TRUE', true],
    ['yes', true],
    ['On', true],
    ['0', false],
    ['false', false],
    ['NO', false],
    ['off', false],
  ];
  for (const [value, expected] of cases) assert.equal(readBoolean({ B: value }, 'B', true), expected, String(value));
  assert.throws(() => readBoolean({ B: 'maybe' }, 'B', true), configError('B', 'maybe', 'true or false'));
});

test('readEnum matches case-insensitively and lists the allowed values when it does not', () => {
  const allowed = ['json', 'pretty'] as const;
  assert.equal(readEnum({}, 'LOG_FORMAT', allowed, 'json'), 'json');
  assert.equal(readEnum({ LOG_FORMAT: 'PRETTY' }, 'LOG_FORMAT', allowed, 'json'), 'pretty');
  assert.throws(() => readEnum({ LOG_FORMAT: 'xml' }, 'LOG_FORMAT', allowed, 'json'), configError('LOG_FORMAT', 'xml', 'one of json, pretty'));
});

test('readUrl accepts only the listed protocols', () => {
  const protocols = ['redis:', 'rediss:'];
  assert.equal(readUrl({}, 'REDIS_URL', 'redis://127.0.0.1:6379', protocols).href, 'redis://127.0.0.1:6379');
  assert.equal(readUrl({ REDIS_URL: 'rediss://cache:6380/2' }, 'REDIS_URL', 'redis://x', protocols).host, 'cache:6380');
  const expected = 'a URL starting with redis:// or rediss://';
  for (const value of ['http://cache:6379', 'cache:6379', 'not a url']) {
    assert.throws(() => readUrl({ REDIS_URL: value }, 'REDIS_URL', 'redis://x', protocols), configError('REDIS_URL', value, expected), value);
  }
});

test('readHost accepts an IP address or a host name, and refuses a port or a malformed address', () => {
  const ok: Array<[string | undefined, string | undefined]> = [
    [undefined, undefined],
    ['', undefined],
    ['0.0.0.0', '0.0.0.0'],
    ['127.0.0.1', '127.0.0.1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fd00::5', 'fd00::5'],
    ['localhost', 'localhost'],
    [' web-1.internal ', 'web-1.internal'],
    ['my_service', 'my_service'],
    ['host.example.', 'host.example.'],
  ];
  for (const [value, expected] of ok) assert.equal(readHost({ HOST: value }, 'HOST'), expected, String(value));
  const expected = 'an IP address (such as 0.0.0.0 or ::) or a host name, without a port';
  for (const value of ['999.1.1.1', '1.2.3', '256.0.0.1', 'localhost:3000', '127.0.0.1:80', '[::1]', '[::1]:80', 'http://web', 'we b', '-web', 'web-', 'a..b', `${'a'.repeat(64)}.b`]) {
    assert.throws(() => readHost({ HOST: value }, 'HOST'), configError('HOST', value, expected), value);
  }
});

test('parseHostPort reads host:port and [v6]:port and refuses anything else', () => {
  const cases: Array<[string, { host: string; port: number } | undefined]> = [
    ['web:3000', { host: 'web', port: 3000 }],
    [' web-2.local:80 ', { host: 'web-2.local', port: 80 }],
    ['10.0.0.5:65535', { host: '10.0.0.5', port: 65535 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    ['web', undefined],
    ['web:', undefined],
    ['web:0', undefined],
    ['web:70000', undefined],
    [':3000', undefined],
    ['we b:3000', undefined],
    // Hosts the URL parser (and so undici) would refuse at start-up with a stack trace:
    ['999.1.1.1:80', undefined],
    ['1.2.3.4.5:80', undefined],
    ['web.1:3000', undefined],
    ['[:::]:80', undefined],
    // Not what they seem: an IPv4 address in brackets, a three-part address (1.2.0.3).
    ['[1.2.3.4]:80', undefined],
    ['1.2.3:80', undefined],
    ['1.0x2:80', undefined], // the URL parser's 1.0.0.2
    ['a.0x1:80', undefined],
    ['[fe80::1%eth0]:80', undefined],
    ['Web-1.Example.:80', { host: 'Web-1.Example.', port: 80 }],
    ['[::ffff:10.0.0.1]:80', { host: '::ffff:10.0.0.1', port: 80 }],
    ['web_1:3000', { host: 'web_1', port: 3000 }],
    ['web.:3000', { host: 'web.', port: 3000 }],
  ];
  for (const [text, expected] of cases) {
    const parsed = parseHostPort(text);
    assert.deepEqual(parsed, expected, text);
    if (parsed) assert.doesNotThrow(() => new URL(`http://${parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host}:${parsed.port}`), text);
  }
});

test('readHostPort and readHostPortList name the variable when an item is malformed', () => {
  assert.equal(readHostPort({}, 'TARGET'), undefined);
  assert.deepEqual(readHostPort({ TARGET: 'web:3000' }, 'TARGET'), { host: 'web', port: 3000 });
  assert.throws(() => readHostPort({ TARGET: 'web' }, 'TARGET'), configError('TARGET', 'web', 'name:port (port 1-65535)'));

  assert.deepEqual(readHostPortList({}, 'BACKENDS'), []);
  assert.deepEqual(readHostPortList({ BACKENDS: 'a:1, b:2,' }, 'BACKENDS'), [
    { host: 'a', port: 1 },
    { host: 'b', port: 2 },
  ]);
  assert.throws(
    () => readHostPortList({ BACKENDS: 'a:1,b' }, 'BACKENDS'),
    configError('BACKENDS', 'a:1,b', 'a comma-separated list of host:port (port 1-65535)'),
  );
});

test('readHttpServerLimits defaults when unset and validates each variable', () => {
  assert.deepEqual(readHttpServerLimits({}), HTTP_SERVER_DEFAULTS);
  assert.deepEqual(readHttpServerLimits({ MAX_HEADER_SIZE: '2048', KEEP_ALIVE_TIMEOUT_MS: '5000' }), {
    ...HTTP_SERVER_DEFAULTS,
    maxHeaderSize: 2048,
    keepAliveTimeoutMs: 5000,
  });
  assert.throws(() => readHttpServerLimits({ MAX_HEADER_SIZE: '10' }), configError('MAX_HEADER_SIZE', '10', 'an integer from 1024 to 1048576'));
  assert.throws(() => readHttpServerLimits({ CLIENT_HEADERS_TIMEOUT_MS: 'soon' }), configError('CLIENT_HEADERS_TIMEOUT_MS', 'soon', 'a positive integer'));
});

test('a ConfigError is one line that a process can print before exiting', () => {
  const error = new ConfigError('PORT', 'abc', 'a TCP port number from 0 to 65535');
  assert.equal(error.message, 'PORT="abc": expected a TCP port number from 0 to 65535');
  assert.ok(!error.message.includes('\n'));
  // A value with a newline in it stays on one line: it is shown as a JSON string.
  assert.ok(!new ConfigError('X', 'a\nb', 'a thing').message.includes('\n'));
});

test('maskUrlPassword hides the password of a URL, parsable or not, and leaves the rest as written', () => {
  const cases: Array<[string, string]> = [
    ['redis://:s3cret@cache:6379/0', 'redis://:***@cache:6379/0'],
    ['rediss://admin:s3cret@cache', 'rediss://admin:***@cache'],
    ['redis://s3cret@cache', 'redis://***@cache'],
    ['redis://admin:p@ss@cache:port', 'redis://admin:***@cache:port'],
    ['redis://cache:6379/0', 'redis://cache:6379/0'],
    // A password that breaks the URL is the one a configuration error prints.
    ['redis://:s3cr/et@cache:6379', 'redis://:***@cache:6379'],
    ['redis://:s3cr#et@cache', 'redis://:***@cache'],
    ['redis://admin:s3cr?et@cache', 'redis://admin:***@cache'],
    ['cache:6379', 'cache:6379'],
  ];
  for (const [text, expected] of cases) assert.equal(maskUrlPassword(text), expected, text);
});

// Configuration is validated once, at start: a bad value is a ConfigError whose message
// names the variable, the value and the rule. Unset variables take the documented defaults.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, HTTP_SERVER_DEFAULTS } from '@visit-counter/shared';
import { BALANCER_DEFAULTS, loadBalancerConfig, publicConfig } from '../src/config.js';

const BASE = { BACKENDS: 'web-1:3000' };

const bad: Array<[Record<string, string>, string, RegExp]> = [
  [{}, 'BACKENDS', /BACKENDS="": expected at least one host:port \(or set BACKENDS_DNS=name:port or HOST_ROUTES\)/],
  [{ BACKENDS: ' , ' }, 'BACKENDS', /expected at least one host:port/],
  [{ BACKENDS: 'web-1' }, 'BACKENDS', /^BACKENDS="web-1": expected a comma-separated list of host:port/],
  [{ BACKENDS: 'web-1:3000,web-2' }, 'BACKENDS', /^BACKENDS="web-1:3000,web-2"/],
  [{ BACKENDS: 'web-1:0' }, 'BACKENDS', /port 1-65535/],
  [{ BACKENDS: 'web-1:70000' }, 'BACKENDS', /port 1-65535/],
  [{ BACKENDS: 'http://web-1:3000' }, 'BACKENDS', /^BACKENDS="http:\/\/web-1:3000"/],
  // Hosts that look like addresses but are none: refused here, not by the URL parser later with a stack trace.
  [{ BACKENDS: '999.1.1.1:80' }, 'BACKENDS', /^BACKENDS="999.1.1.1:80": expected a comma-separated list of host:port/],
  [{ BACKENDS: 'web-1:3000,[:::]:80' }, 'BACKENDS', /^BACKENDS="web-1:3000,\[:::\]:80"/],
  [{ BACKENDS: '[1.2.3.4]:80' }, 'BACKENDS', /^BACKENDS="\[1.2.3.4\]:80"/],
  [{ BACKENDS_DNS: 'web' }, 'BACKENDS_DNS', /^BACKENDS_DNS="web": expected name:port/],
  [{ BACKENDS_DNS: 'web:abc' }, 'BACKENDS_DNS', /^BACKENDS_DNS="web:abc"/],
  [{ ...BASE, PORT: '70000' }, 'PORT', /^PORT="70000": expected a TCP port number from 0 to 65535$/],
  [{ ...BASE, PORT: 'http' }, 'PORT', /^PORT="http"/],
  [{ ...BASE, HEALTH_INTERVAL_MS: 'abc' }, 'HEALTH_INTERVAL_MS', /^HEALTH_INTERVAL_MS="abc": expected a positive integer$/],
  [{ ...BASE, HEALTH_INTERVAL_MS: '0' }, 'HEALTH_INTERVAL_MS', /expected a positive integer/],
  [{ ...BASE, HEALTH_INTERVAL_MS: '-5' }, 'HEALTH_INTERVAL_MS', /expected a positive integer/],
  [{ ...BASE, HEALTH_INTERVAL_MS: '1.5' }, 'HEALTH_INTERVAL_MS', /expected a positive integer/],
  [{ ...BASE, HEALTH_TIMEOUT_MS: '2s' }, 'HEALTH_TIMEOUT_MS', /^HEALTH_TIMEOUT_MS="2s"/],
  [{ ...BASE, HEALTH_RISE: '0' }, 'HEALTH_RISE', /^HEALTH_RISE="0": expected an integer from 1 to 100$/],
  [{ ...BASE, HEALTH_FALL: '101' }, 'HEALTH_FALL', /expected an integer from 1 to 100/],
  [{ ...BASE, HEALTH_PATH: 'readyz' }, 'HEALTH_PATH', /^HEALTH_PATH="readyz": expected a path starting with \/$/],
  [{ ...BASE, CONNECTIONS_PER_BACKEND: '0' }, 'CONNECTIONS_PER_BACKEND', /^CONNECTIONS_PER_BACKEND="0"/],
  [{ ...BASE, UPSTREAM_CONNECT_TIMEOUT_MS: 'fast' }, 'UPSTREAM_CONNECT_TIMEOUT_MS', /expected a positive integer/],
  [{ ...BASE, UPSTREAM_HEADERS_TIMEOUT_MS: '0' }, 'UPSTREAM_HEADERS_TIMEOUT_MS', /expected a positive integer/],
  [{ ...BASE, UPSTREAM_BODY_TIMEOUT_MS: '-1' }, 'UPSTREAM_BODY_TIMEOUT_MS', /expected a positive integer/],
  [{ ...BASE, UPSTREAM_KEEP_ALIVE_MS: 'x' }, 'UPSTREAM_KEEP_ALIVE_MS', /expected a positive integer/],
  [{ ...BASE, TRUST_PROXY: 'maybe' }, 'TRUST_PROXY', /^TRUST_PROXY="maybe": expected true or false$/],
  [{ ...BASE, RETRY_AFTER_SECONDS: '-1' }, 'RETRY_AFTER_SECONDS', /expected a non-negative integer/],
  [{ ...BASE, SHUTDOWN_GRACE_MS: 'soon' }, 'SHUTDOWN_GRACE_MS', /expected a non-negative integer/],
  [{ ...BASE, WORKERS: '0' }, 'WORKERS', /expected an integer from 1 to 64/],
  [{ ...BASE, MAX_ACCEPT: '0' }, 'MAX_ACCEPT', /^MAX_ACCEPT="0": expected an integer from 1 to 256$/],
  [{ ...BASE, HOST: '999.1.1.1' }, 'HOST', /^HOST="999\.1\.1\.1": expected an IP address/],
  [{ ...BASE, HOST: 'localhost:8080' }, 'HOST', /^HOST="localhost:8080"/],
  [{ ...BASE, DNS_SERVER: 'notanip' }, 'DNS_SERVER', /^DNS_SERVER="notanip": expected an IP address, optionally with a port/],
  [{ ...BASE, DNS_SERVER: '127.0.0.1:99999' }, 'DNS_SERVER', /^DNS_SERVER="127\.0\.0\.1:99999"/],
  [{ ...BASE, DNS_SERVER: 'dns.example:53' }, 'DNS_SERVER', /^DNS_SERVER="dns\.example:53"/],
  [{ ...BASE, MAX_ACCEPT: 'many' }, 'MAX_ACCEPT', /^MAX_ACCEPT="many"/],
  [{ ...BASE, MAX_HEADER_SIZE: '10' }, 'MAX_HEADER_SIZE', /^MAX_HEADER_SIZE="10"/],
  [{ ...BASE, CLIENT_HEADERS_TIMEOUT_MS: 'never' }, 'CLIENT_HEADERS_TIMEOUT_MS', /expected a positive integer/],
  [{ ...BASE, CLIENT_REQUEST_TIMEOUT_MS: '0' }, 'CLIENT_REQUEST_TIMEOUT_MS', /expected a positive integer/],
  [{ ...BASE, KEEP_ALIVE_TIMEOUT_MS: 'x' }, 'KEEP_ALIVE_TIMEOUT_MS', /expected a positive integer/],
  [{ ...BASE, LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /^LOG_LEVEL="loud": expected one of fatal, error, warn, info, debug, trace, silent$/],
  [{ ...BASE, LOG_FORMAT: 'xml' }, 'LOG_FORMAT', /^LOG_FORMAT="xml"/],
  [{ BACKENDS_DNS: 'web:3000', DNS_INTERVAL_MS: '0' }, 'DNS_INTERVAL_MS', /expected a positive integer/],
];

for (const [env, variable, message] of bad) {
  test(`config: ${JSON.stringify(env)} is rejected, naming ${variable}`, () => {
    assert.throws(
      () => loadBalancerConfig(env),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
        assert.equal(error.variable, variable);
        assert.match(error.message, message);
        assert.ok(error.message.startsWith(`${variable}=`), `the message starts with the variable: ${error.message}`);
        return true;
      },
    );
  });
}

test('config: unset variables take the documented defaults', () => {
  const config = loadBalancerConfig(BASE);
  assert.equal(config.port, BALANCER_DEFAULTS.port);
  assert.equal(config.port, 8080);
  assert.deepEqual(config.backends, [{ host: 'web-1', port: 3000 }]);
  assert.equal(config.dns, undefined);
  assert.deepEqual(config.health, { path: '/readyz', intervalMs: 2_000, timeoutMs: 1_000, rise: 2, fall: 3 });
  assert.equal(config.upstream.connections, BALANCER_DEFAULTS.connectionsPerBackend);
  assert.equal(config.upstream.headersTimeoutMs, BALANCER_DEFAULTS.headersTimeoutMs);
  assert.equal(config.trustProxy, false);
  assert.equal(config.adminToken, undefined);
  assert.equal(config.retryAfterSeconds, 1);
  assert.equal(config.workers, 1);
  assert.equal(config.maxAccept, 64);
  assert.deepEqual(config.limits, HTTP_SERVER_DEFAULTS);
  assert.equal(config.logLevel, 'info');
});

test('config: lists, DNS and explicit values are read as written', () => {
  const config = loadBalancerConfig({
    BACKENDS: ' web-1:3000 , [::1]:3001,10.0.0.7:80 ',
    BACKENDS_DNS: 'web.internal:3000',
    DNS_INTERVAL_MS: '2500',
    DNS_SERVER: '127.0.0.11',
    PORT: '0',
    TRUST_PROXY: 'yes',
    ADMIN_TOKEN: 's3cret',
    HEALTH_PATH: '/healthz',
    MAX_HEADER_SIZE: '8192',
    CLIENT_HEADERS_TIMEOUT_MS: '5000',
  });
  assert.deepEqual(config.backends, [
    { host: 'web-1', port: 3000 },
    { host: '::1', port: 3001 },
    { host: '10.0.0.7', port: 80 },
  ]);
  assert.deepEqual(config.dns, { host: 'web.internal', port: 3000 });
  assert.equal(config.dnsIntervalMs, 2500);
  assert.equal(config.dnsServer, '127.0.0.11');
  assert.equal(config.port, 0);
  assert.equal(config.trustProxy, true);
  assert.equal(config.health.path, '/healthz');
  assert.equal(config.limits.maxHeaderSize, 8192);
  assert.equal(config.limits.headersTimeoutMs, 5000);
  // The status page never shows the token.
  const shown = publicConfig(config);
  assert.equal(shown['adminToken'], undefined);
  assert.equal(shown['adminEnabled'], true);
  assert.doesNotMatch(JSON.stringify(shown), /s3cret/);
});

test('config: BACKENDS_DNS alone is enough', () => {
  const config = loadBalancerConfig({ BACKENDS_DNS: 'web:3000' });
  assert.deepEqual(config.backends, []);
  assert.deepEqual(config.dns, { host: 'web', port: 3000 });
  assert.equal(config.dnsIntervalMs, 5_000);
  assert.equal(config.dnsServer, undefined);
});

test('config: DNS_SERVER takes an IP address with or without a port, as the resolver does', () => {
  for (const value of ['10.0.0.2', '10.0.0.2:5353', '::1', '[::1]:53', '[fd00::53]:5353']) {
    assert.equal(loadBalancerConfig({ ...BASE, DNS_SERVER: value }).dnsServer, value);
  }
});

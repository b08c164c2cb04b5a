// The pure host router: which route a Host header selects.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHostRouter, hostnameOf } from '../src/host-router.js';

test('hostnameOf strips the port, case and a trailing dot', () => {
  const cases: Array<[string | undefined, string]> = [
    ['api.app.dev', 'api.app.dev'],
    ['API.App.Dev:8080', 'api.app.dev'],
    ['api.app.dev.', 'api.app.dev'],
    ['[::1]:80', '::1'],
    ['127.0.0.1:80', '127.0.0.1'],
    [undefined, ''],
    ['', ''],
  ];
  for (const [header, expected] of cases) assert.equal(hostnameOf(header), expected, String(header));
});

test('exact names win over wildcards, the longest wildcard first, else the default', () => {
  const route = createHostRouter(
    [
      { pattern: '*.app.dev', target: 'any-app' },
      { pattern: 'api.app.dev', target: 'api' },
      { pattern: '*.eu.app.dev', target: 'eu' },
    ],
    'default',
  );
  const cases: Array<[string | undefined, string | undefined]> = [
    ['api.app.dev', 'api'],
    ['API.APP.DEV:80', 'api'],
    ['app.app.dev', 'any-app'],
    ['shop.eu.app.dev', 'eu'],
    ['app.dev', 'default'],
    ['evilapp.dev', 'default'],
    ['localhost', 'default'],
    [undefined, 'default'],
  ];
  for (const [header, expected] of cases) assert.equal(route(header), expected, String(header));
});

test('without a default route an unknown host selects nothing', () => {
  const route = createHostRouter([{ pattern: 'api.app.dev', target: 'api' }], undefined);
  assert.equal(route('api.app.dev'), 'api');
  assert.equal(route('other.dev'), undefined);
});

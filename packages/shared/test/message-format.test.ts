// The visit message: the template with its placeholders, and the three formats it is sent in.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_MESSAGE_TEMPLATE,
  TemplateError,
  compileTemplate,
  renderMessage,
  renderVisit,
  type Visit,
} from '@visit-counter/shared';

const VISIT: Visit = { visits: 42, instanceVisits: 7, hostname: 'web-1', port: 3000 };
const REQUEST_COUNT = 'You are talking to instance {hostname}:{port}.\nThis is request {instanceVisits} to this instance and request {visits} to the cluster.';

test('compileTemplate fills every known placeholder', () => {
  const cases: Array<[string, string]> = [
    [DEFAULT_MESSAGE_TEMPLATE, "I've been visited 42 times, and my hostname is web-1"],
    [REQUEST_COUNT, 'You are talking to instance web-1:3000.\nThis is request 7 to this instance and request 42 to the cluster.'],
    ['{visits}{visits}', '4242'],
    ['no placeholders', 'no placeholders'],
    ['', ''],
    ['a { b', 'a { b'],
    ['{visits', '{visits'],
    ['{{visits}}', '{42}'],
  ];
  for (const [template, expected] of cases) assert.equal(compileTemplate(template)(VISIT), expected, template);
});

test('compileTemplate refuses an unknown placeholder and lists the known ones', () => {
  for (const [template, placeholder] of [
    ['Hello {name}', '{name}'],
    ['{}', '{}'],
    ['{Visits}', '{Visits}'],
    ['a { b } c', '{ b }'],
  ] as const) {
    assert.throws(() => compileTemplate(template), (error: unknown) => {
      assert.ok(error instanceof TemplateError);
      assert.equal(error.code, 'TEMPLATE_INVALID');
      assert.equal(error.message, `unknown placeholder ${placeholder}; use {visits}, {instanceVisits}, {hostname}, {port}`);
      return true;
    });
  }
});

test('renderVisit sends text by default, JSON and HTML when asked', () => {
  const template = compileTemplate(DEFAULT_MESSAGE_TEMPLATE);
  const message = "I've been visited 42 times, and my hostname is web-1";

  assert.deepEqual(renderVisit(VISIT, 'text', template), { contentType: 'text/plain; charset=utf-8', body: `${message}\n` });

  const json = renderVisit(VISIT, 'json', template);
  assert.equal(json.contentType, 'application/json; charset=utf-8');
  assert.deepEqual(JSON.parse(json.body), { message, visits: 42, instanceVisits: 7, hostname: 'web-1' });

  const html = renderVisit(VISIT, 'html', template);
  assert.equal(html.contentType, 'text/html; charset=utf-8');
  assert.match(html.body, /^<!DOCTYPE html>/);
  assert.ok(html.body.includes('<p>I&#39;ve been visited 42 times, and my hostname is web-1</p>'), html.body);
});

test('renderMessage puts a short message under the given key in JSON, with extra fields', () => {
  assert.deepEqual(renderMessage('web-1', 'text'), { contentType: 'text/plain; charset=utf-8', body: 'web-1\n' });
  assert.deepEqual(JSON.parse(renderMessage('web-1', 'json', {}, 'hostname').body), { hostname: 'web-1' });
  assert.deepEqual(JSON.parse(renderMessage('Nothing here.', 'json', { code: 'X_NOT_FOUND' }, 'error').body), {
    error: 'Nothing here.',
    code: 'X_NOT_FOUND',
  });
  assert.ok(renderMessage('Nothing here.', 'html').body.includes('<p>Nothing here.</p>'));
});

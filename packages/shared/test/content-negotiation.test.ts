// Content negotiation: which format a client gets for the Accept header it sends.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { negotiateFormat, type ResponseFormat } from '@visit-counter/shared';

const FIREFOX = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const CHROME =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';

test('negotiateFormat picks text, JSON or HTML from the Accept header', () => {
  const cases: Array<[string | undefined, ResponseFormat, string]> = [
    [undefined, 'text', 'no header'],
    ['', 'text', 'empty header'],
    ['*/*', 'text', 'curl'],
    ['text/plain', 'text', 'plain text asked for'],
    ['text/*', 'text', 'any text'],
    ['application/json', 'json', 'JSON asked for'],
    ['Application/JSON', 'json', 'media types are case-insensitive'],
    ['application/json, */*;q=0.1', 'json', 'JSON preferred over anything'],
    ['*/*, application/json', 'json', 'an explicit type beats the wildcard at the same quality'],
    ['application/json;q=0.5, text/plain', 'text', 'higher quality wins'],
    ['text/plain;q=0.2, application/json;q=0.9', 'json', 'q-values, not order, decide'],
    ['text/plain;Q=0.2, application/json;q=0.9', 'json', 'the q parameter name is case-insensitive'],
    ['application/json, text/plain', 'json', 'same quality: the first listed wins'],
    ['text/plain, application/json', 'text', 'same quality: the first listed wins'],
    ['text/html;q=0.9, application/json', 'json', 'HTML at lower quality'],
    [FIREFOX, 'html', 'Firefox'],
    [CHROME, 'html', 'Chrome'],
    ['image/png', 'text', 'nothing we have: fall back to text'],
    ['application/json;q=0', 'text', 'q=0 means not acceptable'],
    ['text/plain;q=0, */*', 'json', 'text refused, anything else fine'],
    ['garbage', 'text', 'malformed header'],
    ['application/json;q=abc', 'text', 'malformed q-value counts as not acceptable'],
    ['application/json ; q=0.8 , text/html ; q=0.9', 'html', 'whitespace around parameters'],
  ];
  for (const [accept, expected, why] of cases) {
    assert.equal(negotiateFormat(accept), expected, `${why}: Accept: ${String(accept)}`);
  }
});

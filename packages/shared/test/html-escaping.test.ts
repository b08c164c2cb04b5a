// HTML pages never let a value (a hostname, a template, a path) become markup.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileTemplate, escapeHtml, htmlPage, renderMessage, renderVisit } from '@visit-counter/shared';

test('escapeHtml escapes the five characters that matter', () => {
  const cases: Array<[string, string]> = [
    ['plain', 'plain'],
    ['<script>alert(1)</script>', '&#60;script&#62;alert(1)&#60;/script&#62;'],
    ['a & b', 'a &#38; b'],
    [`"quoted" and 'single'`, '&#34;quoted&#34; and &#39;single&#39;'],
    ['&#60;', '&#38;#60;'],
  ];
  for (const [text, expected] of cases) assert.equal(escapeHtml(text), expected, text);
});

test('htmlPage escapes both the title and the message', () => {
  const page = htmlPage('<title>', '<b>hi</b>');
  assert.ok(page.includes('<title>&#60;title&#62;</title>'), page);
  assert.ok(page.includes('<p>&#60;b&#62;hi&#60;/b&#62;</p>'), page);
  assert.ok(!page.includes('<b>'), page);
});

test('a hostile hostname or error message cannot inject markup into the HTML page', () => {
  const visit = { visits: 1, instanceVisits: 1, hostname: '<img src=x onerror=alert(1)>', port: 80 };
  const page = renderVisit(visit, 'html', compileTemplate('{hostname}')).body;
  assert.ok(!page.includes('<img'), page);
  assert.ok(page.includes('&#60;img src=x onerror=alert(1)&#62;'), page);

  const error = renderMessage('There is nothing at "/<svg onload=x>".', 'html').body;
  assert.ok(!error.includes('<svg'), error);
});

// Request headers larger than MAX_HEADER_SIZE are refused with 431 and one sentence; no
// backend sees them, and the balancer keeps serving.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { parseRawResponse, rawExchange } from './helpers/http-client.js';

test('headers over MAX_HEADER_SIZE get 431', { timeout: 20_000 }, async (t) => {
  const backend = await startBackend(t, 'web');
  const lb = await startBalancer(t, { BACKENDS: backend.id, MAX_HEADER_SIZE: '2048' });
  await waitForUp(lb, [backend.id]);

  const big = `GET / HTTP/1.1\r\nHost: x\r\nCookie: ${'a'.repeat(4096)}\r\n\r\n`;
  const reply = parseRawResponse(await rawExchange(t, lb.port, big));
  assert.equal(reply.status, 431);
  assert.equal(reply.body, 'The request headers are too large.\n');
  assert.equal(backend.requests.length, 0);

  // Many small headers add up the same way.
  const many = `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 300 }, (_, i) => `X-Header-${i}: value-${i}\r\n`).join('')}\r\n`;
  assert.equal(parseRawResponse(await rawExchange(t, lb.port, many)).status, 431);

  // Just under the limit is fine.
  const fits = await lb.client.get('/', { cookie: 'a'.repeat(1024) });
  assert.equal(fits.status, 200);
  assert.equal(backend.requests.length, 1);
});

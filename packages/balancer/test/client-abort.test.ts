// A client that hangs up before the answer: the balancer aborts its request to the backend
// (the backend sees its connection close), and the backend is not blamed for it.

import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startBalancer, waitForUp } from './helpers/balancer.js';
import { startBackend } from './helpers/fake-backend.js';
import { waitFor } from './helpers/wait-for.js';

test('a client that leaves early aborts the backend request and counts no backend failure', { timeout: 20_000 }, async (t) => {
  const held: ServerResponse[] = [];
  let aborted = 0;
  const backend = await startBackend(t, 'slow', {
    handler: (_req, res) => {
      held.push(res); // never answered
      res.once('close', () => {
        if (!res.writableFinished) aborted += 1;
      });
    },
  });
  const id = backend.id;
  const lb = await startBalancer(t, { BACKENDS: id });
  await waitForUp(lb, [id]);

  const client = connect({ host: '127.0.0.1', port: lb.port });
  await new Promise((resolve) => client.once('connect', resolve));
  client.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await waitFor(() => held.length === 1, { what: 'the request at the backend' });
  client.destroy();

  await waitFor(() => aborted === 1, { what: 'the backend request aborted' });
  const status = await waitFor(async () => {
    const current = await lb.status();
    return current.backends[0]?.inFlight === 0 ? current : undefined;
  }, { what: 'nothing in flight' });
  assert.equal(status.backends[0]?.failures, 0);
  assert.deepEqual(status.totals['responses'], {}, 'a request that got no answer is not counted as answered');
  assert.equal(status.backends[0]?.state, 'up');
});

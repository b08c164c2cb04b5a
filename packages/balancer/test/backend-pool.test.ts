// The pool's membership as discovery drives it: a backend stays while any source (the static
// list, each DNS name) lists it, and every backend no source lists any more leaves, in one go.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BackendPool } from '../src/backend-pool.js';
import { loadBalancerConfig } from '../src/config.js';

const upstream = loadBalancerConfig({ BACKENDS: '127.0.0.1:1' }).upstream;
const at = (port: number) => ({ host: '10.0.0.7', port });
const members = (pool: BackendPool) => pool.list().map((backend) => `${backend.id}${backend.removed ? ' (draining)' : ''}`);

test('a backend two DNS names share stays while either lists it', async (t) => {
  const pool = new BackendPool(upstream);
  t.after(() => pool.close());
  pool.setAddresses('dns:a.internal', [at(3000)]);
  pool.setAddresses('dns:b.internal', [at(3000)]);
  assert.deepEqual(members(pool), ['10.0.0.7:3000']);

  pool.setAddresses('dns:a.internal', []); // a.internal moved away; b.internal still lists it
  assert.deepEqual(members(pool), ['10.0.0.7:3000']);

  pool.setAddresses('dns:b.internal', []);
  assert.deepEqual(members(pool), [], 'idle, listed by nobody: gone');
});

test('a busy backend no source lists drains, and comes back when listed again', async (t) => {
  const pool = new BackendPool(upstream);
  t.after(() => pool.close());
  pool.setAddresses('dns:a.internal', [at(3000)]);
  const [backend] = pool.list();
  assert.ok(backend);
  backend.inFlight = 1;
  pool.setAddresses('dns:a.internal', []);
  assert.deepEqual(members(pool), ['10.0.0.7:3000 (draining)']);
  pool.setAddresses('dns:b.internal', [at(3000)]);
  assert.deepEqual(members(pool), ['10.0.0.7:3000'], 'listed by another name: kept');
});

test('every idle backend a source drops leaves in the same update', async (t) => {
  const pool = new BackendPool(upstream);
  t.after(() => pool.close());
  pool.setAddresses('dns:web', [at(3000), at(3001), at(3002)]);
  pool.setAddresses('dns:web', [at(3002)]);
  assert.deepEqual(members(pool), ['10.0.0.7:3002']);
});

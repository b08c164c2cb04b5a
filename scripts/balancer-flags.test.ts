// The balancer runs with the same Node flags wherever it is started: the image's CMD and the
// package's `npm start` spell out BALANCER_NODE_FLAGS, which the bench and the root `npm start`
// import. A flag changed in one place only would make the bench measure another process than
// the one that ships.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BALANCER_NODE_FLAGS } from '@visit-counter/shared';

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

test("the balancer image's CMD runs node with BALANCER_NODE_FLAGS", () => {
  const stage = read('Dockerfile').split(/^FROM /m).find((part) => /^\S+ AS balancer\s*$/m.test(part));
  assert.ok(stage, 'the Dockerfile has a balancer stage');
  const cmd = /^CMD (\[.*\])\s*$/m.exec(stage);
  assert.ok(cmd, 'the balancer stage has an exec-form CMD');
  assert.deepEqual(JSON.parse(cmd[1] as string), ['node', ...BALANCER_NODE_FLAGS, 'packages/balancer/dist/main.js']);
});

test("the balancer package's npm start runs node with BALANCER_NODE_FLAGS", () => {
  const { scripts } = JSON.parse(read('packages/balancer/package.json')) as { scripts: Record<string, string> };
  assert.equal(scripts['start'], ['node', ...BALANCER_NODE_FLAGS, '--conditions=source --import tsx src/main.ts'].join(' '));
});

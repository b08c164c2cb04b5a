// When replacing workers has become a crash loop: more exits than the limit within the window.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCrashLoopGuard } from '../src/crash-loop.js';

test('more exits than the limit within the window is a crash loop; exits that fell out of the window do not count', () => {
  const cases: Array<[what: string, exitTimes: number[], expected: boolean[]]> = [
    ['five in a second are tolerated, the sixth is not', [0, 100, 200, 300, 400, 500], [false, false, false, false, false, true]],
    ['one a window apart never adds up', [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000], [false, false, false, false, false, false, false]],
    ['a burst after the old ones left the window starts afresh', [0, 1, 2, 3, 4, 10_004, 10_005, 10_006, 10_007, 10_008], Array(10).fill(false)],
    ['an exit exactly one window later no longer counts the first', [0, 1, 2, 3, 4, 10_000], Array(6).fill(false)],
  ];
  for (const [what, times, expected] of cases) {
    const guard = createCrashLoopGuard({ exits: 5, windowMs: 10_000 });
    assert.deepEqual(times.map((time) => guard.exited(time)), expected, what);
  }
  const guard = createCrashLoopGuard({ exits: 1, windowMs: 1_000 });
  guard.exited(0);
  guard.exited(500);
  assert.equal(guard.recent, 2, 'the exits within the window, for the sentence');
});

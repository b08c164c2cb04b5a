// Round robin as a pure function: which index is picked and where the cursor goes next,
// for every situation the pool can be in. No sockets.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickRoundRobin } from '../src/round-robin.js';

interface Case {
  name: string;
  /** One letter per backend; upper case may take a request, lower case may not. */
  pool: string;
  cursor: number;
  /** The letter picked (undefined: none) and the cursor after. */
  picked: string | undefined;
  next?: number;
}

const eligible = (letter: string): boolean => letter === letter.toUpperCase();

const cases: Case[] = [
  { name: 'empty pool', pool: '', cursor: 0, picked: undefined },
  { name: 'single backend', pool: 'A', cursor: 0, picked: 'A', next: 1 },
  { name: 'single backend, cursor past the end wraps', pool: 'A', cursor: 1, picked: 'A', next: 1 },
  { name: 'first pick starts at the first backend', pool: 'ABC', cursor: 0, picked: 'A', next: 1 },
  { name: 'cursor in the middle', pool: 'ABC', cursor: 1, picked: 'B', next: 2 },
  { name: 'cursor at the last', pool: 'ABC', cursor: 2, picked: 'C', next: 3 },
  { name: 'cursor one past the end wraps to the first', pool: 'ABC', cursor: 3, picked: 'A', next: 1 },
  { name: 'cursor far past the end wraps modulo', pool: 'ABC', cursor: 3 * 1000 + 2, picked: 'C', next: 3 },
  { name: 'negative cursor wraps from the end', pool: 'ABC', cursor: -1, picked: 'C', next: 3 },
  { name: 'skips an ineligible backend', pool: 'AbC', cursor: 1, picked: 'C', next: 3 },
  { name: 'skips several and wraps around', pool: 'AbcD', cursor: 3, picked: 'D', next: 4 },
  { name: 'skips to the start when the tail is ineligible', pool: 'Abc', cursor: 1, picked: 'A', next: 1 },
  { name: 'only the backend before the cursor is eligible', pool: 'aBc', cursor: 2, picked: 'B', next: 2 },
  { name: 'none eligible', pool: 'abc', cursor: 0, picked: undefined },
  { name: 'none eligible, any cursor', pool: 'abc', cursor: 7, picked: undefined },
];

for (const c of cases) {
  test(`round robin: ${c.name}`, () => {
    const items = [...c.pool];
    const pick = pickRoundRobin(items, c.cursor, eligible);
    if (c.picked === undefined) {
      assert.equal(pick, undefined);
      return;
    }
    assert.ok(pick, 'expected a pick');
    assert.equal(items[pick.index], c.picked);
    assert.equal(pick.cursor, c.next);
  });
}

interface SequenceCase {
  name: string;
  pool: string;
  picks: number;
  expected: string;
}

const sequences: SequenceCase[] = [
  { name: 'three eligible backends take turns', pool: 'ABC', picks: 7, expected: 'ABCABCA' },
  { name: 'an ineligible backend is left out of the turns', pool: 'AbC', picks: 6, expected: 'ACACAC' },
  { name: 'one eligible backend takes every request', pool: 'abC', picks: 4, expected: 'CCCC' },
  { name: 'two adjacent ineligible backends', pool: 'AbcDE', picks: 6, expected: 'ADEADE' },
];

for (const s of sequences) {
  test(`round robin sequence: ${s.name}`, () => {
    const items = [...s.pool];
    let cursor = 0;
    let got = '';
    for (let i = 0; i < s.picks; i++) {
      const pick = pickRoundRobin(items, cursor, eligible);
      assert.ok(pick);
      got += items[pick.index];
      cursor = pick.cursor;
    }
    assert.equal(got, s.expected);
  });
}

test('round robin spreads 3000 picks over 3 backends exactly evenly', () => {
  const items = ['A', 'B', 'C'];
  const counts = new Map<string, number>();
  let cursor = 0;
  for (let i = 0; i < 3000; i++) {
    const pick = pickRoundRobin(items, cursor, () => true);
    assert.ok(pick);
    const item = items[pick.index] as string;
    counts.set(item, (counts.get(item) ?? 0) + 1);
    cursor = pick.cursor;
  }
  assert.deepEqual(Object.fromEntries(counts), { A: 1000, B: 1000, C: 1000 });
});

test('round robin asks about each backend at most once per pick', () => {
  const asked: string[] = [];
  const pick = pickRoundRobin(['a', 'b', 'c', 'd'], 2, (item) => {
    asked.push(item);
    return false;
  });
  assert.equal(pick, undefined);
  assert.deepEqual(asked, ['c', 'd', 'a', 'b']);
});

// Round robin, as a pure function: no sockets, no clocks. Given the backends in pool order,
// the cursor (where the last pick left off) and a test of which may take a request, it
// returns the index to use and the cursor for the next call.

export interface Pick {
  index: number;
  cursor: number;
}

export function pickRoundRobin<T>(items: readonly T[], cursor: number, eligible: (item: T) => boolean): Pick | undefined {
  const count = items.length;
  if (count === 0) return undefined;
  const start = ((cursor % count) + count) % count;
  for (let step = 0; step < count; step++) {
    const index = (start + step) % count;
    if (eligible(items[index] as T)) return { index, cursor: index + 1 };
  }
  return undefined;
}

// When replacing workers that die has become a crash loop: more exits than the limit within a
// sliding window (systemd's StartLimitBurst within StartLimitIntervalSec). A pure counter: the
// caller passes the time.

export interface CrashLoopLimit {
  /** Most worker exits tolerated within `windowMs`; one more is a crash loop. */
  exits: number;
  windowMs: number;
}

export interface CrashLoopGuard {
  /** Records one exit at `now` (ms); true when the exits within the window exceed the limit. */
  exited(now: number): boolean;
  /** Exits recorded within the window ending at the last one. */
  readonly recent: number;
}

export function createCrashLoopGuard(limit: CrashLoopLimit): CrashLoopGuard {
  const times: number[] = [];
  return {
    exited(now) {
      times.push(now);
      while ((times[0] as number) <= now - limit.windowMs) times.shift();
      return times.length > limit.exits;
    },
    get recent() {
      return times.length;
    },
  };
}

// The shared visit counter. Visits that arrive in the same event-loop turn are counted with
// one INCRBY n; each gets its own number from the block, so every response shows a distinct
// count and Redis grows by exactly the number of visits handed out.
//
// The increment runs as a script that refuses to count once its deadline has passed: a
// command stuck behind a frozen Redis that runs late (after we answered 503) counts nothing.

import type { Redis } from 'ioredis';
import { CounterOutcomeUnknownError, CounterTimeoutError, CounterUnavailableError } from './errors.js';

// KEYS[1] counter, ARGV[1] how many, ARGV[2] deadline in ms since the epoch (Redis clock).
const INCREMENT_BEFORE_DEADLINE = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if nowMs > tonumber(ARGV[2]) then return -1 end
return redis.call('INCRBY', KEYS[1], ARGV[1])
`;

interface Waiter {
  resolve(visits: number): void;
  reject(error: Error): void;
}

export interface Counter {
  /** Counts one visit and returns its number. Rejects (and counts nothing) when Redis fails. */
  next(): Promise<number>;
}

export interface CounterOptions {
  redis: Redis;
  key: string;
  timeoutMs: number;
  now?: () => number;
}

type ScriptedRedis = Redis & { visitIncrement(key: string, count: number, deadline: number): Promise<number> };

export function createCounter({ redis, key, timeoutMs, now = Date.now }: CounterOptions): Counter {
  const scripted = redis as ScriptedRedis;
  if (typeof scripted.visitIncrement !== 'function') {
    redis.defineCommand('visitIncrement', { numberOfKeys: 1, lua: INCREMENT_BEFORE_DEADLINE });
  }
  // The script must have run before our own timer fires, with room for the reply to travel back.
  const margin = Math.min(50, Math.floor(timeoutMs / 4));
  let waiting: Waiter[] = [];

  const flush = (): void => {
    const batch = waiting;
    waiting = [];
    const started = now();
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      for (const waiter of batch) waiter.reject(error);
    };
    const timer = setTimeout(() => fail(new CounterTimeoutError(timeoutMs)), timeoutMs);
    timer.unref();
    if (redis.status !== 'ready') {
      clearTimeout(timer);
      fail(new CounterUnavailableError());
      return;
    }
    scripted.visitIncrement(key, batch.length, started + timeoutMs - margin).then(
      (last) => {
        clearTimeout(timer);
        if (settled) return;
        if (last < 0) {
          fail(new CounterTimeoutError(timeoutMs));
          return;
        }
        settled = true;
        const first = last - batch.length + 1;
        batch.forEach((waiter, i) => waiter.resolve(first + i));
      },
      (error: unknown) => {
        clearTimeout(timer);
        // An error reply means Redis ran the script and it failed: nothing was counted. Any
        // other failure (the connection closed) leaves the visit's fate unknown.
        fail((error as Error).name === 'ReplyError' ? new CounterUnavailableError(error) : new CounterOutcomeUnknownError(error));
      },
    );
  };

  return {
    next() {
      return new Promise<number>((resolve, reject) => {
        waiting.push({ resolve, reject });
        if (waiting.length === 1) setImmediate(flush);
      });
    },
  };
}

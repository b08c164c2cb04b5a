// The shared visit counter. Visits that arrive in the same event-loop turn are counted with
// one INCRBY n; each gets its own number from the block, so every response shows a distinct
// count and Redis grows by exactly the number of visits handed out.
//
// The increment runs as a script that refuses to count once its deadline has passed: a
// command stuck behind a frozen Redis that runs late (after we answered 503) counts nothing.
// It also leaves its result under the batch's own token key for a while, so that a batch
// whose reply is lost with the connection can be settled exactly once Redis is back
// (reconcile.ts).

import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '@visit-counter/shared';
import { CounterOutcomeUnknownError, CounterTimeoutError, CounterUnavailableError, ShutdownOutcomeUnknownError, ShuttingDownError, VisitorLeftError } from './errors.js';
import { createReconciler } from './reconcile.js';
import type { RedisConnection } from './redis-client.js';

// KEYS[1] counter, KEYS[2] the batch's token key; ARGV[1] how many, ARGV[2] deadline in ms
// since the epoch (Redis clock), ARGV[3] how long the token key lives in ms. Returns the
// batch's last number; -1 past the deadline; -2 when the batch was marked "not counted".
const INCREMENT_BEFORE_DEADLINE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return -2 end
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if nowMs > tonumber(ARGV[2]) then return -1 end
local last = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], last, 'PX', ARGV[3])
return last
`;

interface Waiter {
  resolve(visits: number): void;
  reject(error: Error): void;
  /** True once the visit can no longer reach its visitor: it is left out of the batch. */
  gone: (() => boolean) | undefined;
}

export interface Counter {
  /**
   * Counts one visit and returns its number. Rejects when Redis fails; the error says whether
   * it counted. `gone` tells whether the visit can no longer reach its visitor (who left, or
   * whose answer can never be sent): until its batch is sent, such a visit is not counted
   * (VisitorLeftError).
   */
  next(gone?: () => boolean): Promise<number>;
  /** Answers every visit still waiting for Redis now, before a shutdown's cut: those sent (or
   * held for reconciliation) with 503 "outcome unknown", those not sent yet, and any visit
   * after this, with 503 "shutting down" (not counted). */
  giveUp(): void;
}

export interface CounterOptions {
  connection: RedisConnection;
  key: string;
  timeoutMs: number;
  /** How long a batch whose reply was lost waits for Redis to come back and tell; 0: not at all. */
  reconcileMs: number;
  logger: Logger;
  now?: () => number;
}

type ScriptedRedis = Redis & {
  visitIncrement(key: string, tokenKey: string, count: number, deadline: number, ttlMs: number): Promise<number>;
};

/**
 * Time left for a reply to travel back before a deadline of `periodMs`: what Redis gets is
 * the period less this, so that its answer can still arrive in time.
 */
export function replyMargin(periodMs: number): number {
  return Math.min(50, Math.floor(periodMs / 4));
}

export function createCounter({ connection, key, timeoutMs, reconcileMs, logger, now = Date.now }: CounterOptions): Counter {
  const { redis } = connection;
  const scripted = redis as ScriptedRedis;
  if (typeof scripted.visitIncrement !== 'function') {
    redis.defineCommand('visitIncrement', { numberOfKeys: 2, lua: INCREMENT_BEFORE_DEADLINE });
  }
  // A token key is read back at most timeoutMs + reconcileMs after the increment ran; twice
  // that keeps it safely long enough, and short enough that keys do not pile up.
  const tokenTtlMs = 2 * (timeoutMs + reconcileMs);
  const reconciler = createReconciler({ connection, windowMs: reconcileMs, ttlMs: tokenTtlMs, logger });
  const tokenPrefix = `${key}:batch:${randomBytes(6).toString('base64url')}:`;
  let sequence = 0;
  // The script must have run before our own timer fires, with room for the reply to travel back.
  const margin = replyMargin(timeoutMs);
  // Each visit waits one whole event-loop turn before it is sent. A request and the end of its
  // connection come in with two reads, in two turns (a client that gave up while this replica
  // was stalled left both in the socket): a turn later, a visitor who has gone shows it and is
  // left out. `arriving`: the visits of this turn; `aged`: those of the turn before, sent at
  // the end of this one (the check phase, after this turn's reads), all in one batch.
  let arriving: Waiter[] = [];
  let aged: Waiter[] = [];
  let ticking = false;
  // Once the shutdown has given up, nothing more is sent: a visit after that could be counted
  // and then cut with its connection, unanswered.
  let gaveUp = false;
  // Each batch sent and not yet answered, as the way to answer it "outcome unknown".
  const unanswered = new Set<() => void>();

  const tick = (): void => {
    const ready = aged;
    aged = arriving;
    arriving = [];
    ticking = aged.length > 0;
    if (ticking) setImmediate(tick);
    flush(ready);
  };

  const flush = (waiters: readonly Waiter[]): void => {
    const batch: Waiter[] = [];
    for (const waiter of waiters) {
      if (waiter.gone?.()) waiter.reject(new VisitorLeftError());
      else batch.push(waiter);
    }
    if (batch.length === 0) return;
    // Not connected, or not (yet) known to be in REDIS_URL's database: counting there would be wrong.
    if (!connection.usable()) {
      const error = new CounterUnavailableError();
      for (const waiter of batch) waiter.reject(error);
      return;
    }
    const tokenKey = tokenPrefix + (sequence += 1).toString(36);
    const started = now();
    let settled = false;
    /** The batch's one outcome: the first to arrive wins, the timer is no longer needed. */
    const settle = (outcome: () => void): boolean => {
      clearTimeout(timer);
      unanswered.delete(abandon);
      if (settled) return false;
      settled = true;
      outcome();
      return true;
    };
    const hand = (last: number): void => {
      const first = last - batch.length + 1;
      batch.forEach((waiter, i) => waiter.resolve(first + i));
    };
    const refuse = (error: Error): void => batch.forEach((waiter) => waiter.reject(error));
    const abandon = (): void => void settle(() => refuse(new ShutdownOutcomeUnknownError()));
    unanswered.add(abandon);
    // Give up in the check phase, not the timers phase: after a busy spell of the event loop, a
    // reply that already arrived is read first (poll phase) and the visit gets its count.
    const timer = setTimeout(() => setImmediate(() => settle(() => refuse(new CounterTimeoutError(timeoutMs)))), timeoutMs);
    timer.unref();
    scripted.visitIncrement(key, tokenKey, batch.length, started + timeoutMs - margin, tokenTtlMs).then(
      (last) => {
        if (settle(() => (last < 0 ? refuse(new CounterTimeoutError(timeoutMs)) : hand(last)))) return;
        // Answered 503 already, yet Redis counted: a reply slower than the deadline's margin (or
        // than the shutdown grace period).
        if (last >= 0) logger.warn({ batch: tokenKey, visits: batch.length, last }, 'a batch answered 503 was counted: its reply came after that answer (slower than the %d ms margin, or past a shutdown)', margin);
      },
      (error: unknown) => {
        if (certainlyNotCounted(error)) {
          settle(() => refuse(new CounterUnavailableError(error)));
          return;
        }
        // The connection closed with the increment sent: Redis may have run it. Ask once it is back.
        const outcome = reconciler.settle(tokenKey, error);
        if (settle(() => outcome.then(hand, refuse))) return;
        // Answered 503 already (timeout, shutdown), the reply lost before the connection went:
        // the visitors were told to try again, so say when Redis did count them, or may have.
        const fields = { batch: tokenKey, visits: batch.length };
        outcome.then(
          (last) => logger.warn({ ...fields, last }, 'a batch answered 503 was counted: its reply was lost with the connection to Redis'),
          (reason: unknown) => {
            if (reason instanceof CounterOutcomeUnknownError) {
              logger.warn(fields, 'a batch answered 503 may have been counted: its reply was lost with the connection to Redis, and Redis could not be asked');
            }
          },
        );
      },
    );
  };

  return {
    next(gone) {
      if (gaveUp) return Promise.reject(new ShuttingDownError());
      return new Promise<number>((resolve, reject) => {
        arriving.push({ resolve, reject, gone });
        if (!ticking) {
          ticking = true;
          setImmediate(tick);
        }
      });
    },
    giveUp() {
      gaveUp = true;
      // Not sent yet: not counted, and they say so.
      const unsent = [...aged, ...arriving];
      aged = [];
      arriving = [];
      for (const waiter of unsent) waiter.reject(new ShuttingDownError());
      for (const abandon of [...unanswered]) abandon();
      reconciler.giveUp();
    },
  };
}

/** An error reply (the script ran and failed before counting) or a command ioredis never wrote. */
function certainlyNotCounted(error: unknown): boolean {
  const { name, message } = error as Error;
  return name === 'ReplyError' || message.startsWith("Stream isn't writeable");
}

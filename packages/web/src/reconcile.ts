// Reconciliation of a batch whose reply was lost: the connection to Redis closed after the
// increment was sent (a Redis restart), so Redis may or may not have run it. The increment
// leaves its result under the batch's own token key for a while; once the client is connected
// again we read that key. A number means the batch was counted, and these are its numbers.
// Nothing means it was not: we leave a "not counted" mark there so that the increment, should
// it still arrive late, refuses to count. When Redis is not back within the window, or the
// client is closed for good, the outcome stays unknown.

import type { Redis } from 'ioredis';
import type { Logger } from '@visit-counter/shared';
import { CounterOutcomeUnknownError, CounterUnavailableError } from './errors.js';
import type { RedisConnection } from './redis-client.js';

// KEYS[1] the batch's token key, ARGV[1] how long the mark lives in ms. Returns the batch's
// last number when it was counted, else nil (and the key then holds the mark). Asking twice
// (a reply lost again) is safe: the mark reads as not a number, so nil again.
const READ_OR_MARK_NOT_COUNTED = `
local last = redis.call('GET', KEYS[1])
if last then return tonumber(last) end
redis.call('SET', KEYS[1], 'not-counted', 'PX', ARGV[1])
return nil
`;

export interface Reconciler {
  /** Resolves with the last number of the batch at `tokenKey` when Redis counted it; rejects with
   * CounterUnavailableError when it certainly did not, CounterOutcomeUnknownError when no one can tell. */
  settle(tokenKey: string, cause: unknown): Promise<number>;
  /** Stops waiting for Redis: every batch held now is answered "outcome unknown" at once. */
  giveUp(): void;
}

export interface ReconcilerOptions {
  connection: RedisConnection;
  /** How long a batch waits for Redis to come back, in ms; 0 gives up at once. */
  windowMs: number;
  /** How long the "not counted" mark lives, in ms: as long as the increment's own result. */
  ttlMs: number;
  logger: Logger;
}

interface HeldBatch {
  ask(): void;
  giveUp(): void;
}

type ReconcilingRedis = Redis & { visitReconcile(tokenKey: string, ttlMs: number): Promise<number | null> };

export function createReconciler({ connection, windowMs, ttlMs, logger }: ReconcilerOptions): Reconciler {
  const { redis } = connection;
  const scripted = redis as ReconcilingRedis;
  if (typeof scripted.visitReconcile !== 'function') {
    redis.defineCommand('visitReconcile', { numberOfKeys: 1, lua: READ_OR_MARK_NOT_COUNTED });
  }
  // One listener of each for all held batches, however many a closed connection left behind.
  // Asked only in REDIS_URL's database: elsewhere the token key is not there to be read.
  const held = new Set<HeldBatch>();
  connection.onUsable(() => held.forEach((batch) => batch.ask()));
  const giveUp = (): void => held.forEach((batch) => batch.giveUp());
  redis.on('end', giveUp);

  return {
    giveUp,
    settle(tokenKey, cause) {
      if (windowMs === 0 || redis.status === 'end') return Promise.reject(new CounterOutcomeUnknownError(cause));
      return new Promise<number>((resolve, reject) => {
        let asking = false;
        const finish = (outcome: string, settle: () => void): void => {
          if (!held.delete(batch)) return;
          clearTimeout(timer);
          logger.info({ batch: tokenKey, outcome }, 'a batch whose reply was lost with the connection to Redis: %s', outcome);
          settle();
        };
        const batch: HeldBatch = {
          giveUp: () => finish('unknown', () => reject(new CounterOutcomeUnknownError(cause))),
          ask: () => {
            if (asking || !connection.usable()) return;
            asking = true;
            scripted.visitReconcile(tokenKey, ttlMs).then(
              (last) => {
                if (last === null) finish('not counted', () => reject(new CounterUnavailableError(cause)));
                else finish('counted', () => resolve(last));
              },
              (error: unknown) => {
                asking = false;
                // Redis refused (out of memory, say): no mark, no answer. A lost connection: ask
                // again on the next one (once usable); asking is safe to repeat.
                if ((error as Error).name === 'ReplyError') batch.giveUp();
              },
            );
          },
        };
        const timer = setTimeout(batch.giveUp, windowMs);
        timer.unref();
        held.add(batch);
        batch.ask();
      });
    },
  };
}

// The Redis connection, set up so that a dead or slow Redis fails requests fast and never
// runs a visit later: no offline queue, no retries per request, nothing re-sent on reconnect.

import { Redis } from 'ioredis';
import type { Logger } from '@visit-counter/shared';

export function createRedisClient(url: string, timeoutMs: number, logger: Logger): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: Math.max(timeoutMs, 1000),
    // Reconnect quickly and keep trying forever: the replica serves again as soon as Redis is back.
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
  });
  let lastState = '';
  const report = (state: string, error?: Error): void => {
    if (state === lastState) return; // one line per change, not one per reconnect attempt
    lastState = state;
    if (error) logger.warn({ redis: state, err: error.message }, 'redis %s', state);
    else logger.info({ redis: state }, 'redis %s', state);
  };
  redis.on('ready', () => report('ready'));
  redis.on('error', (error: Error) => report('unreachable', error));
  // A lost connection that comes back on the first retry raises no 'error': without this the
  // drop (and the following 'ready') would never be logged.
  redis.on('reconnecting', () => report('unreachable'));
  redis.on('end', () => report('closed'));
  return redis;
}

// The Redis connection, set up so that a dead or slow Redis fails requests fast and never
// runs a visit later: no offline queue, no retries per request, nothing re-sent on reconnect.
//
// A connection is usable only once it is known to be in REDIS_URL's database. ioredis sends
// SELECT when it connects, but when Redis refuses it (a database the server does not have)
// ioredis only emits an error and carries on in database 0. So on every new connection we
// select the database again ourselves, and nothing may use the connection until Redis has
// said OK to that: a visit is never counted in another database.

import { Redis } from 'ioredis';
import type { Logger } from '@visit-counter/shared';

/** How often a refused SELECT is asked again on the same connection, in ms. */
const SELECT_RETRY_MS = 1_000;

export interface RedisConnection {
  readonly redis: Redis;
  /** True when a command sent now runs, on a ready connection, in REDIS_URL's database. */
  usable(): boolean;
  /** Calls `listener` each time a new connection becomes usable. */
  onUsable(listener: () => void): void;
}

export function createRedisClient(url: string, database: number, timeoutMs: number, logger: Logger): RedisConnection {
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
    if (state === 'refused the database') {
      logger.error(
        { redis: state, database, err: error?.message },
        'REDIS_URL names database %d, but Redis refused to select it (%s): visits are refused until it can; check REDIS_URL and the server\'s "databases" setting',
        database,
        error?.message,
      );
    } else if (error) logger.warn({ redis: state, err: error.message }, 'redis %s', state);
    else logger.info({ redis: state }, 'redis %s', state);
  };

  // The socket on which the database was confirmed; a reconnect brings a new one.
  let confirmed: unknown;
  const listeners: Array<() => void> = [];
  const confirm = (): void => {
    confirmed = redis.stream;
    report('ready');
    for (const listener of listeners) listener();
  };
  const select = (stream: unknown): void => {
    if (redis.stream !== stream || redis.status !== 'ready') return; // that connection is gone
    redis.select(database).then(
      () => {
        if (redis.stream === stream && redis.status === 'ready') confirm();
      },
      (error: Error) => {
        // A lost connection: the next one selects again. A refusal: ask again on this one
        // (a refusal may pass, a BUSY script say), logging it once.
        if (error.name !== 'ReplyError') return;
        report('refused the database', error);
        setTimeout(() => select(stream), SELECT_RETRY_MS).unref();
      },
    );
  };
  redis.on('ready', () => {
    // A new connection starts in database 0: only another database needs confirming.
    if (database === 0) confirm();
    else select(redis.stream);
  });
  redis.on('error', (error: Error & { command?: { name?: string } }) => {
    // ioredis's own SELECT on connect: the one of ours that follows it reports the refusal.
    if (error.command?.name === 'select') return;
    report('unreachable', error);
  });
  // A lost connection that comes back on the first retry raises no 'error': without this the
  // drop (and the following 'ready') would never be logged.
  redis.on('reconnecting', () => report('unreachable'));
  redis.on('end', () => report('closed'));
  return {
    redis,
    usable: () => redis.status === 'ready' && confirmed === redis.stream,
    onUsable: (listener) => listeners.push(listener),
  };
}

// The web replica's configuration: read from the environment once, at start-up.

import {
  ConfigError,
  DEFAULT_MESSAGE_TEMPLATE,
  TemplateError,
  compileTemplate,
  maskUrlPassword,
  readHttpServerLimits,
  readHost,
  readInteger,
  readLogOptions,
  readPort,
  readString,
  readUrl,
  type Env,
  type HttpServerLimits,
  type LogFormat,
  type LogLevel,
  type MessageTemplate,
} from '@visit-counter/shared';

export const WEB_DEFAULTS = {
  port: 3000,
  redisUrl: 'redis://127.0.0.1:6379',
  redisKey: 'visits',
  redisTimeoutMs: 250, // 250 ms: a visit fails fast with 503 when Redis does not answer
  redisReconcileMs: 5_000, // 5 seconds a visit whose reply was lost waits for Redis to say if it counted; 0: off
  shutdownGraceMs: 10_000, // 10 seconds for requests in flight after SIGTERM
  shutdownDrainMs: 0, // after SIGTERM, serve on (flagged as draining) this long before closing
  messageTemplate: DEFAULT_MESSAGE_TEMPLATE,
} as const;

export interface WebConfig {
  port: number;
  host: string | undefined;
  redisUrl: string;
  /** The database REDIS_URL names (its path, or its `db` parameter); 0 when it names none. */
  redisDatabase: number;
  redisKey: string;
  redisTimeoutMs: number;
  redisReconcileMs: number;
  instanceName: string;
  messageTemplate: MessageTemplate;
  messageTemplateSource: string;
  shutdownGraceMs: number;
  shutdownDrainMs: number;
  limits: HttpServerLimits;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export function loadWebConfig(env: Env, hostname: string): WebConfig {
  const messageTemplateSource = readString(env, 'MESSAGE_TEMPLATE', WEB_DEFAULTS.messageTemplate);
  let messageTemplate: MessageTemplate;
  try {
    messageTemplate = compileTemplate(messageTemplateSource);
  } catch (error) {
    if (error instanceof TemplateError) throw new ConfigError('MESSAGE_TEMPLATE', messageTemplateSource, `a template whose placeholders are known (${error.message})`);
    throw error;
  }
  const log = readLogOptions(env);
  const redis = readRedisUrl(env, 'REDIS_URL', WEB_DEFAULTS.redisUrl);
  return {
    port: readPort(env, 'PORT', WEB_DEFAULTS.port),
    host: readHost(env, 'HOST'),
    redisUrl: redis.url,
    redisDatabase: redis.database,
    redisKey: readString(env, 'REDIS_KEY', WEB_DEFAULTS.redisKey),
    redisTimeoutMs: readInteger(env, 'REDIS_TIMEOUT_MS', WEB_DEFAULTS.redisTimeoutMs, { min: 10, max: 60_000 }),
    redisReconcileMs: readInteger(env, 'REDIS_RECONCILE_MS', WEB_DEFAULTS.redisReconcileMs, { min: 0, max: 60_000 }),
    instanceName: readString(env, 'INSTANCE_NAME', hostname),
    messageTemplate,
    messageTemplateSource,
    shutdownGraceMs: readInteger(env, 'SHUTDOWN_GRACE_MS', WEB_DEFAULTS.shutdownGraceMs, { min: 0 }),
    shutdownDrainMs: readInteger(env, 'SHUTDOWN_DRAIN_MS', WEB_DEFAULTS.shutdownDrainMs, { min: 0, max: 600_000 }),
    limits: readHttpServerLimits(env),
    logLevel: log.level,
    logFormat: log.format,
  };
}

/**
 * A Redis URL whose database, if it names one, is a number: ioredis would send `SELECT NaN`
 * for /abc and crash the replica a moment after it started. ioredis reads the database from
 * the path, else from a `db` parameter; both are checked the same way.
 */
function readRedisUrl(env: Env, name: string, fallback: string): { url: string; database: number } {
  const url = readUrl(env, name, fallback, ['redis:', 'rediss:']);
  const path = url.pathname === '' || url.pathname === '/' ? undefined : url.pathname.slice(1);
  const text = path ?? url.searchParams.get('db') ?? '0';
  if (!/^\d{1,15}$/.test(text)) throw new ConfigError(name, maskUrlPassword(readString(env, name, fallback)), 'a database number (0 or more) as the URL\'s path, such as redis://cache:6379/0, or no path');
  return { url: url.href, database: Number(text) };
}

// The web replica's configuration: read from the environment once, at start-up.

import {
  ConfigError,
  DEFAULT_MESSAGE_TEMPLATE,
  TemplateError,
  compileTemplate,
  readHttpServerLimits,
  readInteger,
  readLogOptions,
  readOptionalString,
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
  return {
    port: readPort(env, 'PORT', WEB_DEFAULTS.port),
    host: readOptionalString(env, 'HOST'),
    redisUrl: readUrl(env, 'REDIS_URL', WEB_DEFAULTS.redisUrl, ['redis:', 'rediss:']).href,
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

// The logger factory: pino JSON lines by default, human-readable lines when asked for.
// Tests pass their own destination stream and read the JSON lines back.

import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { readEnum, type Env } from './config.js';

export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  name: string;
  level?: LogLevel;
  format?: LogFormat;
  destination?: DestinationStream;
}

export type { Logger };

export function createLogger(options: LoggerOptions): Logger {
  const base = { name: options.name, level: options.level ?? 'info' };
  if (options.destination) return pino(base, options.destination);
  if (options.format === 'pretty') {
    return pino(base, pretty({
        sync: true,
        colorize: false,
        singleLine: true,
        translateTime: 'SYS:standard',
        // An access line already says all of this in its message.
        ignore: 'pid,hostname,method,path,status,durationMs,remoteAddress,requestId',
      }),
    );
  }
  return pino(base);
}

/** LOG_LEVEL and LOG_FORMAT, read the same way by every service. */
export function readLogOptions(env: Env): { level: LogLevel; format: LogFormat } {
  return {
    level: readEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    format: readEnum(env, 'LOG_FORMAT', LOG_FORMATS, 'json'),
  };
}

// The logger factory: pino JSON lines by default, human-readable lines (pretty-lines.ts) when asked for.
// Tests pass their own destination stream and read the JSON lines back.

import { pino, type DestinationStream, type Logger } from 'pino';
import { readEnum, type Env } from './config.js';
import { prettyLine } from './pretty-lines.js';

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
    // The same destination as pino's default for JSON lines: asynchronous (a slow reader of
    // stdout does not stall requests; writes group up under load), flushed when the process exits.
    const stdout = pino.destination({ dest: 1, sync: false });
    // `base: {}`: no pid and hostname in each JSON line, which a pretty line leaves out anyway.
    return pino({ ...base, base: {} }, { write: (line: string) => stdout.write(prettyLine(line)) });
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

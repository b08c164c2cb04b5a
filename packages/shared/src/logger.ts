// The logger factory: pino JSON lines by default, human-readable lines (pretty-lines.ts) when asked for,
// written to stdout with backpressure (stdout-lines.ts).
// Tests pass their own destination stream and read the JSON lines back.

import { pino, type DestinationStream, type Logger } from 'pino';
import { readEnum, type Env } from './config.js';
import { prettyLine } from './pretty-lines.js';
import { createStdoutLines, type LineSink } from './stdout-lines.js';

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

let stdoutLines: LineSink | undefined;

export function createLogger(options: LoggerOptions): Logger {
  const base = { name: options.name, level: options.level ?? 'info' };
  if (options.destination) return pino(base, options.destination);
  // Lines go out at the end of each event-loop turn, with backpressure (stdout-lines.ts); one
  // sink for every logger of the process, so their lines keep their order.
  const stdout = (stdoutLines ??= createStdoutLines());
  if (options.format === 'pretty') {
    // `base: {}`: no pid and hostname in each JSON line, which a pretty line leaves out anyway.
    const pretty = { write: (line: string) => stdout.write(prettyLine(line)), flush: stdout.flush, flushSync: stdout.flushSync };
    return pino({ ...base, base: {} }, pretty);
  }
  return pino(base, stdout);
}

/** LOG_LEVEL and LOG_FORMAT, read the same way by every service. */
export function readLogOptions(env: Env): { level: LogLevel; format: LogFormat } {
  return {
    level: readEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    format: readEnum(env, 'LOG_FORMAT', LOG_FORMATS, 'json'),
  };
}

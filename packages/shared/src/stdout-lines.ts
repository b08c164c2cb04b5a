// Log lines to stdout: gathered during an event-loop turn and written at its end with one
// blocking write. pino's default destination writes asynchronously and keeps in memory,
// without bound, whatever stdout's reader has not taken yet: behind Docker's log driver at
// wrk -c1000 the balancer held 15 MiB of unwritten lines after a minute, and more every second.
// Here a reader that falls behind slows the process down instead, as nginx's blocking log
// writes do; memory holds one turn's lines at most, and no line is lost or reordered.

import { writeSync } from 'node:fs';

/** How long to wait before trying again when stdout is non-blocking and its pipe is full. */
const FULL_PIPE_PAUSE_MS = 1;
const pause = new Int32Array(new SharedArrayBuffer(4));

export interface LineSink {
  write(line: string): void;
  /** Writes what is pending now (also done at the end of the turn and when the process exits). */
  flush(): void;
}

export function createStdoutLines(fd = 1): LineSink {
  let pending: string[] = [];
  let scheduled = false;
  let readerGone = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const bytes = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    if (!readerGone) readerGone = !writeAll(fd, bytes);
  };
  process.on('exit', flush);
  return {
    write(line) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** Writes every byte, waiting while the pipe is full; false when the reader has gone (EPIPE). */
function writeAll(fd: number, bytes: Buffer): boolean {
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, FULL_PIPE_PAUSE_MS);
      else if (code === 'EPIPE') return false; // nobody reads stdout any more: drop, as pino does
      else throw error;
    }
  }
  return true;
}

// Log lines to stdout: gathered during an event-loop turn and written at its end with blocking
// writes. pino's default destination writes asynchronously and keeps in memory, without bound,
// whatever stdout's reader has not taken yet: behind Docker's log driver at wrk -c1000 the
// balancer held 15 MiB of unwritten lines after a minute, and more every second. Here a reader
// that falls behind slows the process down instead, as nginx's blocking log writes do, and
// memory holds one turn's lines at most. A reader that stops altogether stops the process
// with it, shutdown included, until it reads again or goes away.
//
// Each write call carries whole lines and at most PIPE_BUF bytes (unless a single line is
// longer), so lines from several processes on one stdout (WORKERS) never cut into each other.

import { writeSync } from 'node:fs';

/** POSIX guarantees that a pipe write of up to this many bytes is not interleaved with others. */
const ATOMIC_WRITE_BYTES = 4096;
/** How long to wait before trying again when stdout is non-blocking and its pipe is full. */
const FULL_PIPE_PAUSE_MS = 1;
/** The reader is gone or stdout is unusable: the lines are dropped, the service goes on. */
const GONE = new Set(['EPIPE', 'EBADF', 'EIO']);
const pause = new Int32Array(new SharedArrayBuffer(4));

export interface LineSink {
  write(line: string): void;
  /** Writes what is pending now (also done at the end of the turn and when the process exits). */
  flush(callback?: () => void): void;
  /** The same, under the name pino calls after a fatal entry. */
  flushSync(): void;
}

export function createStdoutLines(fd = 1): LineSink {
  let pending: string[] = [];
  let scheduled = false;
  let readerGone = false;
  const flushNow = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const bytes = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    if (!readerGone) readerGone = !writeLines(fd, bytes);
  };
  process.on('exit', flushNow);
  return {
    write(line) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushNow);
      }
    },
    flush(callback) {
      flushNow();
      callback?.();
    },
    flushSync: flushNow,
  };
}

/** Writes every byte in line-aligned pieces, waiting while the pipe is full; false when the reader is gone. */
function writeLines(fd: number, bytes: Buffer): boolean {
  let offset = 0;
  while (offset < bytes.length) {
    const end = pieceEnd(bytes, offset);
    try {
      offset += writeSync(fd, bytes, offset, end - offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, FULL_PIPE_PAUSE_MS);
      else if (GONE.has(code)) return false;
      else throw error;
    }
  }
  return true;
}

/** The end of the next piece from `start`: the last line end within PIPE_BUF, else the first one after it. */
function pieceEnd(bytes: Buffer, start: number): number {
  const limit = Math.min(bytes.length, start + ATOMIC_WRITE_BYTES);
  if (limit === bytes.length) return limit;
  const lastBreak = bytes.lastIndexOf(0x0a, limit - 1);
  if (lastBreak >= start) return lastBreak + 1;
  const nextBreak = bytes.indexOf(0x0a, limit);
  return nextBreak === -1 ? bytes.length : nextBreak + 1;
}

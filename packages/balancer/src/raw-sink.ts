// The fast path's answer sink: the answer as HTTP/1.1 text straight to the client's socket.
// The head is the backend's status and headers (cleaned by forward-headers.ts) and our
// connection lines; the body keeps its length, or is sent chunked when the backend gave none;
// HEAD, 204 and 304 answers have no body. The head waits for the first body bytes, or for the
// handler's flush after the read that brought it, so that both leave in one write.
//
// One per exchange, carrying what the exchange decides: whether the request was a HEAD, and
// whether the connection ends after this answer. The client leaving is reported by the
// connection (fast-path.ts), which watches its socket once for all its exchanges: the only
// listener added per exchange is `drain`, when the client is slow.

import type { Socket } from 'node:net';
import type { AnswerSink, SinkEvents } from './answer-sink.js';
import { CLOSE_LINES, headerLines, statusLine } from './raw-answer.js';

const LAST_CHUNK = '0\r\n\r\n';

export class RawSink implements AnswerSink {
  /** The request was a HEAD: the answer has a head only. */
  private readonly headOnly: boolean;
  /** The connection ends after this answer. Shutting down sets it while the head is not out yet. */
  connectionClose: boolean;
  private readonly socket: Socket;
  /** The head's last lines while the connection stays open: `keepAliveLines(...)`, made once. */
  private readonly keepAlive: string;
  private events: SinkEvents | undefined;
  /** The head, until it is written; '' once it is (or before there is one). */
  private pendingHead = '';
  private chunked = false;
  private bodyless = false;

  constructor(socket: Socket, headOnly: boolean, connectionClose: boolean, keepAlive: string) {
    this.socket = socket;
    this.headOnly = headOnly;
    this.connectionClose = connectionClose;
    this.keepAlive = keepAlive;
  }

  get gone(): boolean {
    return this.socket.destroyed;
  }

  /** The head's last lines, as things stand: `connection: close` or keep-alive. */
  lastLines(): string {
    return this.connectionClose ? CLOSE_LINES : this.keepAlive;
  }

  attach(events: SinkEvents): void {
    this.events = events;
  }

  head(status: number, headers: string[], hasLength: boolean): void {
    this.bodyless = this.headOnly || status === 204 || status === 304;
    this.chunked = !this.bodyless && !hasLength;
    let head = statusLine(status) + headerLines(headers);
    if (this.chunked) head += 'transfer-encoding: chunked\r\n';
    this.pendingHead = head + this.lastLines();
  }

  flushHead(): void {
    if (this.pendingHead === '') return;
    this.socket.write(this.pendingHead, 'latin1');
    this.pendingHead = '';
  }

  write(chunk: Buffer): boolean {
    if (this.bodyless) {
      // No body may follow this head (undici gives none for these): the head leaves alone.
      this.flushHead();
      return true;
    }
    if (this.socket.write(this.framed(chunk, ''))) return true;
    this.socket.once('drain', this.onDrain);
    return false;
  }

  end(last: Buffer | undefined): void {
    const tail = this.chunked ? LAST_CHUNK : '';
    if (last !== undefined && !this.bodyless) this.socket.write(this.framed(last, tail));
    else if (this.pendingHead !== '' || tail !== '') this.socket.write(this.pendingHead + tail, 'latin1');
    this.pendingHead = '';
  }

  release(): void {
    this.socket.off('drain', this.onDrain);
  }

  /** The connection saw the client leave (fast-path.ts watches the socket for all its exchanges). */
  clientLeft(): void {
    this.events?.clientGone();
  }

  private readonly onDrain = (): void => this.events?.drained();

  /** `chunk` as it goes out: after the head if that still waits, chunk-framed when chunked, then `tail`. */
  private framed(chunk: Buffer, tail: string): Buffer {
    let before = this.pendingHead;
    this.pendingHead = '';
    let after = tail;
    if (this.chunked) {
      before += `${chunk.length.toString(16)}\r\n`;
      after = '\r\n' + tail;
    }
    return before === '' && after === '' ? chunk : joined(before, chunk, after);
  }
}

/** `before`, `chunk` and `after` in one buffer: one allocation, one write. */
function joined(before: string, chunk: Buffer, after: string): Buffer {
  // latin1 is one byte per character: the strings' lengths are their byte counts.
  const out = Buffer.allocUnsafe(before.length + chunk.length + after.length);
  out.write(before, 0, 'latin1');
  chunk.copy(out, before.length);
  out.write(after, before.length + chunk.length, 'latin1');
  return out;
}

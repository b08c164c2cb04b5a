// The fast path's side of one forwarded exchange: an undici dispatch handler that writes the
// backend's answer straight to the client's socket as HTTP/1.1 text. The head is the backend's
// less hop-by-hop headers (forward-headers.ts), plus ours; the body keeps its length, or is
// sent chunked when the backend gave none. Backpressure goes both ways, as in forward-handler.ts.

import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { ClientGoneError } from '../errors.js';
import { downstreamRawHeaders } from '../forward-headers.js';
import { CLOSE_LINES, statusLine } from '../raw-answer.js';

export interface RawExchange {
  /** A HEAD request: the answer has a head only. */
  head: boolean;
  /** Headers added to the answer, `[name, value, ...]`. */
  extra: readonly string[];
  /** The connection ends after this answer. */
  close: boolean;
  /** The head's closing lines when the connection stays open: `keepAliveLines(seconds)`, made once. */
  keepAlive: string;
}

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = '0\r\n\r\n';

export function connectionLines(exchange: RawExchange): string {
  return exchange.close ? CLOSE_LINES : exchange.keepAlive;
}

export class RawForwardHandler implements Dispatcher.DispatchHandler {
  /** The status sent to the client; 0 until the head has been written. */
  status = 0;
  private readonly socket: Socket;
  /** Mutable `close`: shutting down makes an answer whose head is not out yet the last one. */
  readonly exchange: RawExchange;
  private readonly onDraining: () => void;
  private readonly done: (error?: Error) => void;
  private abort: ((error?: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  private chunked = false;
  private bodyless = false;

  constructor(socket: Socket, exchange: RawExchange, onDraining: () => void, done: (error?: Error) => void) {
    this.socket = socket;
    this.exchange = exchange;
    this.onDraining = onDraining;
    this.done = done;
  }

  /** The client went away: stop the backend request. */
  clientGone(): void {
    this.abort?.(new ClientGoneError('the client closed the connection before the answer was complete'));
  }

  private readonly onDrain = (): void => this.resumeUpstream?.();

  onConnect(abort: (error?: Error) => void): void {
    this.abort = abort;
    if (this.socket.destroyed) this.clientGone();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the real answer follows
    const { headers, draining, hasLength } = downstreamRawHeaders(rawHeaders, this.exchange.extra);
    if (draining) this.onDraining();
    this.resumeUpstream = resume;
    this.bodyless = this.exchange.head || statusCode === 204 || statusCode === 304;
    let head = statusLine(statusCode);
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i] as string}: ${headers[i + 1] as string}\r\n`;
    this.chunked = !this.bodyless && !hasLength;
    if (this.chunked) head += 'transfer-encoding: chunked\r\n';
    head += connectionLines(this.exchange);
    this.status = statusCode;
    // undici parses a whole socket read in one go: a body that came in the same read arrives
    // before this microtask runs, and head and body leave in one write.
    this.head = head;
    queueMicrotask(this.flushHead);
    return true;
  }

  private head: string | undefined;

  private readonly flushHead = (): void => {
    if (this.head === undefined) return;
    this.socket.write(this.head, 'latin1');
    this.head = undefined;
  };

  onData(chunk: Buffer): boolean {
    if (this.bodyless) return true;
    let out = chunk;
    if (this.chunked) out = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, CRLF]);
    if (this.head !== undefined) {
      out = Buffer.concat([Buffer.from(this.head, 'latin1'), out]);
      this.head = undefined;
    }
    if (this.socket.write(out)) return true;
    this.socket.once('drain', this.onDrain);
    return false;
  }

  onComplete(): void {
    this.socket.off('drain', this.onDrain);
    const tail = this.chunked ? LAST_CHUNK : '';
    if (this.head !== undefined || tail !== '') this.socket.write((this.head ?? '') + tail, 'latin1');
    this.head = undefined;
    this.done();
  }

  onError(error: Error): void {
    this.socket.off('drain', this.onDrain);
    this.done(error);
  }
}

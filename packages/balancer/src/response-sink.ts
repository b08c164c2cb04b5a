// The full path's answer sink: Node's ServerResponse. Node does the framing (length or
// chunked, no body for HEAD, 204 and 304, the connection lines) and keeps the head until the
// first body bytes or the end, so a one-chunk body leaves with it in one write.

import type { ServerResponse } from 'node:http';
import type { AnswerSink, SinkEvents } from './answer-sink.js';

export class ResponseSink implements AnswerSink {
  private readonly res: ServerResponse;
  private events: SinkEvents | undefined;
  private closed = false;

  constructor(res: ServerResponse) {
    this.res = res;
  }

  get gone(): boolean {
    return this.closed;
  }

  attach(events: SinkEvents): void {
    this.events = events;
    // Watched from the start, not from the first answer bytes: a client that gives up on a
    // slow backend frees that backend's connection.
    this.res.once('close', this.onClose);
  }

  head(status: number, headers: string[]): void {
    this.res.writeHead(status, headers);
  }

  flushHead(): void {
    // Nothing to do: Node sends the head with the first body bytes or the end, whichever comes.
  }

  write(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  end(last: Buffer | undefined): void {
    this.res.end(last);
  }

  release(): void {
    this.res.off('close', this.onClose);
    this.res.off('drain', this.onDrain);
  }

  private readonly onClose = (): void => {
    this.closed = true;
    this.events?.clientGone();
  };

  private readonly onDrain = (): void => this.events?.drained();
}

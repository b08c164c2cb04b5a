// One forwarded exchange as an undici dispatch handler: the backend's answer is written to
// the client as it arrives (a one-chunk body leaves in the same write as the head), with
// backpressure both ways, and the backend request is aborted when the client leaves first.
// `done` is called once: without an error when the answer is complete, with the error otherwise.

import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { ClientGoneError } from './errors.js';
import { downstreamRawHeaders } from './forward-headers.js';

export class ForwardHandler implements Dispatcher.DispatchHandler {
  private readonly res: ServerResponse;
  private readonly extra: readonly string[];
  private readonly done: (error?: Error) => void;
  private readonly onDraining: () => void;
  private abort: ((error?: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  private held: Buffer | undefined;
  private streaming = false;
  private finished = false;
  private clientGone = false;

  constructor(res: ServerResponse, extra: readonly string[], onDraining: () => void, done: (error?: Error) => void) {
    this.res = res;
    this.extra = extra;
    this.onDraining = onDraining;
    this.done = done;
    res.once('close', this.onClientClose);
  }

  private readonly onClientClose = (): void => {
    if (this.finished) return;
    this.clientGone = true;
    this.abort?.(new ClientGoneError('the client closed the connection before the answer was complete'));
  };

  private readonly onDrain = (): void => this.resumeUpstream?.();

  onConnect(abort: (error?: Error) => void): void {
    this.abort = abort;
    if (this.clientGone) abort(new ClientGoneError('the client closed the connection before the request was sent'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the real answer follows
    const { headers, draining } = downstreamRawHeaders(rawHeaders, this.extra);
    if (draining) this.onDraining();
    this.resumeUpstream = resume;
    this.res.writeHead(statusCode, headers);
    return true;
  }

  // undici parses a whole socket read in one go: when the end of the answer was in the same
  // read, it arrives before this runs, and the held chunk leaves with it in one write.
  private readonly flushHeld = (): void => {
    if (this.held === undefined || this.finished) return;
    const chunk = this.held;
    this.held = undefined;
    this.write(chunk);
  };

  onData(chunk: Buffer): boolean {
    if (!this.streaming) {
      this.streaming = true;
      this.held = chunk; // perhaps the whole body: then it goes out with the head in one write
      queueMicrotask(this.flushHeld);
      return true;
    }
    this.flushHeld();
    return this.write(chunk);
  }

  private write(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  onComplete(): void {
    this.finish();
    this.res.end(this.held);
    this.held = undefined;
    this.done();
  }

  onError(error: Error): void {
    this.finish();
    this.done(error);
  }

  private finish(): void {
    this.finished = true;
    this.res.off('close', this.onClientClose);
    this.res.off('drain', this.onDrain);
  }
}

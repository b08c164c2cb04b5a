// One forwarded exchange as an undici dispatch handler, on both paths: the backend's answer
// goes to an answer sink (answer-sink.ts) as it arrives, with backpressure both ways, and the
// backend request is aborted when the client leaves first. A one-chunk body leaves in the same
// write as the head. `done` is called once: without an error when the answer is complete,
// with the error otherwise.
//
// The legacy handler API (onConnect, onHeaders, onData, ...) on purpose: undici 7's core still
// calls it, and a handler written for the new one goes through an adapter on every call.

import type { Dispatcher } from 'undici';
import type { AnswerSink, SinkEvents } from './answer-sink.js';
import { ClientGoneError } from './errors.js';
import { downstreamRawHeaders } from './forward-headers.js';

export class ForwardHandler implements Dispatcher.DispatchHandler, SinkEvents {
  /** The status sent to the client; 0 until the answer's head has been written to the sink. */
  status = 0;
  private readonly sink: AnswerSink;
  private readonly extra: readonly string[];
  private readonly onDraining: () => void;
  private readonly done: (error?: Error) => void;
  private abort: ((error?: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  /** The first body chunk, held back until the flush: it may be the whole body. */
  private held: Buffer | undefined;
  private streaming = false;
  private flushQueued = false;
  private finished = false;

  /**
   * `extra`: headers added to the answer, `[name, value, ...]`; `onDraining`: called when the
   * backend says it is draining.
   */
  constructor(sink: AnswerSink, extra: readonly string[], onDraining: () => void, done: (error?: Error) => void) {
    this.sink = sink;
    this.extra = extra;
    this.onDraining = onDraining;
    this.done = done;
    sink.attach(this);
  }

  /** The client left: the backend request stops now, or as soon as it starts. */
  clientGone(): void {
    if (this.finished) return;
    this.abort?.(new ClientGoneError('the client closed the connection before the answer was complete'));
  }

  drained(): void {
    this.resumeUpstream?.();
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abort = abort;
    if (this.sink.gone) abort(new ClientGoneError('the client closed the connection before the request was sent'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the real answer follows
    const { headers, draining, hasLength } = downstreamRawHeaders(rawHeaders, this.extra, statusCode);
    if (draining) this.onDraining();
    this.resumeUpstream = resume;
    this.sink.head(statusCode, headers, hasLength);
    this.status = statusCode;
    this.flushSoon();
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (!this.streaming) {
      this.streaming = true;
      this.held = chunk; // perhaps the whole body: then it goes out with the head in one write
      this.flushSoon();
      return true;
    }
    this.flushHeld();
    return this.sink.write(chunk);
  }

  onComplete(): void {
    this.finish();
    this.sink.end(this.held);
    this.held = undefined;
    this.done();
  }

  onError(error: Error): void {
    // undici holds a 204 or 304 to the body its Content-Length announces, as for a 200; neither
    // has a body whatever that header says (RFC 9112 6.3), so the answer is complete. Only
    // undici's connection to the backend is lost.
    if ((this.status === 204 || this.status === 304) && (error as { code?: unknown }).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
      this.onComplete();
      return;
    }
    this.finish();
    this.done(error);
  }

  // One flush per read at most: the head and the first chunk usually come in the same one.
  private flushSoon(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(this.flush);
  }

  // undici parses a whole socket read in one go: the body bytes and the end of the answer that
  // were in the same read arrive before this runs, and leave with the head in one write.
  private readonly flush = (): void => {
    this.flushQueued = false;
    if (this.finished) return;
    if (this.held === undefined) this.sink.flushHead();
    else this.flushHeld();
  };

  private flushHeld(): void {
    const chunk = this.held;
    if (chunk === undefined) return;
    this.held = undefined;
    this.sink.write(chunk);
  }

  private finish(): void {
    this.finished = true;
    this.sink.release();
  }
}

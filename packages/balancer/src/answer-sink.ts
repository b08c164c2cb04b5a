// Where one forwarded exchange's answer goes, as the dispatch handler (forward-handler.ts)
// sees it. The handler runs the exchange (abort, backpressure, when to flush, `done`); a sink
// only knows how bytes reach the client. Two kinds: Node's ServerResponse on the full path
// (response-sink.ts), the client's raw socket on the fast path (raw-sink.ts).

/** What a sink tells the exchange it writes for. */
export interface SinkEvents {
  /** The client took what was written after `write` said to wait: the backend may go on. */
  drained(): void;
  /** The client left before the answer was complete. */
  clientGone(): void;
}

export interface AnswerSink {
  /**
   * The client is already gone: checked when the backend request starts, since a client that
   * left before then had no request to abort.
   */
  readonly gone: boolean;
  /** Once, before anything else: whom to tell of drains and of the client leaving. */
  attach(events: SinkEvents): void;
  /**
   * The answer's status and headers (`[name, value, ...]`, already cleaned); `hasLength`: the
   * backend gave the body's length. The head may wait to leave with the first body bytes.
   */
  head(status: number, headers: string[], hasLength: boolean): void;
  /** Sends a head that is still waiting: no body bytes came with it. */
  flushHead(): void;
  /** A body chunk, with the head if it is still waiting; false: wait for `drained()`. */
  write(chunk: Buffer): boolean;
  /** The end of the answer, with `last` (a body chunk held back) and whatever waits, in one write. */
  end(last: Buffer | undefined): void;
  /** The exchange is over, its answer complete or not: no more events. */
  release(): void;
}

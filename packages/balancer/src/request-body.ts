// The client's request body as undici reads it for one attempt: a stream of its own that
// pulls from the client only once undici starts sending. An attempt whose connection could
// not be made has read nothing, so the whole body is still there for the next backend. And
// undici, which destroys (and detaches the socket of) a body it gave up on, never touches the
// client's request: its connection must stay to carry the error response.

import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

export interface BodyAttempt {
  stream: Readable;
  /** True once undici has asked for data: the body can no longer be sent elsewhere. */
  readonly started: boolean;
}

export function bodyAttempt(req: IncomingMessage): BodyAttempt {
  let started = false;
  let ended = false;
  const onData = (chunk: Buffer): void => {
    if (!stream.push(chunk)) req.pause();
  };
  const onEnd = (): void => {
    ended = true;
    stream.push(null);
  };
  const onError = (error: Error): void => {
    stream.destroy(error);
  };
  const onClose = (): void => {
    if (!ended) stream.destroy(new Error('the client closed the connection before the request body was complete'));
  };
  const detach = (): void => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    req.off('close', onClose);
  };
  const stream = new Readable({
    read() {
      if (!started) {
        started = true;
        req.on('data', onData);
        req.once('end', onEnd);
        req.once('error', onError);
        req.once('close', onClose);
      }
      req.resume();
    },
    destroy(error, callback) {
      if (started) {
        detach();
        // Whatever the backend did not take is read and dropped, so the error response can go out.
        if (!ended) req.resume();
      }
      callback(error);
    },
  });
  return {
    stream,
    get started() {
      return started;
    },
  };
}

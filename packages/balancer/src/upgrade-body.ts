// An Upgrade request's own body (its Content-Length), sent to the backend before the answer;
// nothing more. Bytes the client sends past it are held, not forwarded: they belong to the
// tunnel if the backend switches protocols, and are dropped with the connection if it does not
// (sent on, they would reach the backend as requests the balancer never saw). The client is
// read all along, so that its leaving is seen while the backend thinks.

import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

/** Bytes held past the body before reading stops (then only the handshake's time-out ends a wait). */
const HOLD_LIMIT = 64 * 1024;

export interface BodyRelay {
  /** Stops reading the client; returns the bytes read past the body, for the tunnel. */
  stop(): Buffer;
}

/** Sends the first `length` bytes after the client's head (`head` has those read already) to `out`, then ends it. */
export function relayBody(client: Socket, head: Buffer, length: number, out: Writable): BodyRelay {
  let remaining = length;
  let stopped = false;
  let held = 0;
  const past: Buffer[] = [];
  const take = (chunk: Buffer): void => {
    const part = chunk.subarray(0, remaining);
    if (part.length < chunk.length) {
      past.push(chunk.subarray(part.length));
      held += chunk.length - part.length;
      if (held > HOLD_LIMIT) client.pause();
    }
    if (part.length === 0) return;
    remaining -= part.length;
    const flowing = out.write(part);
    if (remaining === 0) out.end();
    else if (!flowing) {
      client.pause();
      out.once('drain', resume);
    }
  };
  const resume = (): void => {
    if (!stopped) client.resume();
  };
  take(head);
  if (remaining === 0) out.end();
  client.on('data', take);
  return {
    stop() {
      stopped = true;
      // Paused before the listener goes: a flowing socket with no listener would lose bytes.
      client.pause();
      client.off('data', take);
      out.off('drain', resume);
      return Buffer.concat(past);
    },
  };
}

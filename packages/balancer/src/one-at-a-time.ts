// Pipelined requests on one connection are forwarded one at a time, in order, as nginx does:
// Node's server hands them over as fast as it parses them, but RFC 9112 9.3.2 lets a server
// work on pipelined requests in parallel only when every one of them is safe, and a `POST`
// behind a slow one could otherwise reach its backend first. Nothing changes for a connection
// with one request at a time, which is every connection that does not pipeline.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

type Serve = (req: IncomingMessage, res: ServerResponse, log: Record<string, unknown>) => Promise<void>;

export function oneAtATime(serve: Serve): Serve {
  /** Per busy connection, the requests waiting for the one in progress. */
  const waiting = new WeakMap<Socket, Array<() => void>>();
  return (req, res, log) =>
    new Promise<void>((resolve, reject) => {
      const socket = req.socket;
      const next = (): void => {
        const queue = waiting.get(socket);
        const following = queue?.shift();
        if (following) following();
        else waiting.delete(socket);
      };
      const run = (): void => {
        // The client left while this waited: it never reached a backend, nothing to answer.
        if (socket.destroyed) {
          resolve();
          next();
          return;
        }
        serve(req, res, log).then(resolve, reject).finally(next);
      };
      const queue = waiting.get(socket);
      if (queue) queue.push(run);
      else {
        waiting.set(socket, []);
        run();
      }
    });
}

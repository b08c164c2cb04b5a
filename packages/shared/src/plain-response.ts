// A response for a request Node's server handed over as an upgrade, to answer it as a plain
// request instead (a refused one, or the balancer's own /_lb endpoints, never forwarded): a
// ServerResponse on its socket, and the connection ends after the answer.

import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { lingerClose } from './http-server.js';

export function plainResponse(req: IncomingMessage, socket: Socket): ServerResponse {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false; // `connection: close` in the head
  res.assignSocket(socket);
  res.once('finish', () => {
    res.detachSocket(socket);
    lingerClose(socket);
  });
  return res;
}

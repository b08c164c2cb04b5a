// WebSocket (and any other HTTP/1.1 Upgrade) pass-through: the handshake goes to the next
// healthy backend over a fresh connection, then bytes flow both ways untouched.

import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Logger, VisitCounterError } from '@visit-counter/shared';
import type { BackendPool } from './backend-pool.js';
import { recordUpstreamFailure, type Backend } from './backend.js';
import { NoHealthyBackendError, NoRouteError } from './errors.js';
import { readClientHead } from './forward-headers.js';
import { CLOSE_LINES, rawErrorResponse } from './raw-answer.js';

export interface UpgradeOptions {
  route: (host: string | undefined) => BackendPool | undefined;
  trustProxy: boolean;
  connectTimeoutMs: number;
  retryAfterSeconds: number;
  logger: Logger;
}

/** The same error answer as the other paths give (format by Accept, code, request id), then the end. */
function refuse(socket: Socket, req: IncomingMessage, error: VisitCounterError, extra: readonly string[]): void {
  // Not head-only (an upgrade is a GET), and the connection ends with this answer.
  socket.end(rawErrorResponse(error, req.headers.accept, extra, false, CLOSE_LINES));
}

function open(backend: Backend, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: backend.address.host, port: backend.address.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export interface UpgradeHandler {
  handle(req: IncomingMessage, client: Socket, head: Buffer): Promise<void>;
  /** Cuts every open tunnel: they are no longer the HTTP server's to close, yet keep it open. */
  closeAll(): void;
}

export function createUpgradeHandler({ route, trustProxy, connectTimeoutMs, retryAfterSeconds, logger }: UpgradeOptions): UpgradeHandler {
  const tunnels = new Set<Socket>();
  const forwardContext = { proto: 'http', trustProxy, generateId: randomUUID } as const;
  const handle = async (req: IncomingMessage, client: Socket, head: Buffer): Promise<void> => {
    client.on('error', () => client.destroy());
    const { headers, requestId, host } = readClientHead(req, forwardContext, true);
    const pool = route(host);
    const ids = ['x-request-id', requestId];
    if (!pool) {
      refuse(client, req, new NoRouteError(host), ids);
      return;
    }
    const tried = new Set<Backend>();
    for (;;) {
      const backend = pool.pick(tried);
      if (!backend) {
        refuse(client, req, new NoHealthyBackendError(), [...ids, 'retry-after', String(retryAfterSeconds)]);
        return;
      }
      tried.add(backend);
      let upstream: Socket;
      try {
        upstream = await open(backend, connectTimeoutMs);
      } catch (error) {
        const failure = recordUpstreamFailure(backend, error, logger);
        if (failure.notSent) continue;
        refuse(client, req, failure.error, ids);
        return;
      }
      if (client.destroyed) {
        // The client left while the backend connection was being made: no tunnel to build.
        upstream.destroy();
        return;
      }
      backend.requests += 1;
      backend.inFlight += 1;
      logger.info({ backend: backend.id, path: req.url, requestId }, 'upgrade to %s via %s', req.headers.upgrade, backend.id);
      let head0 = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < headers.length; i += 2) head0 += `${headers[i]}: ${headers[i + 1]}\r\n`;
      upstream.write(head0 + '\r\n');
      if (head.length > 0) upstream.write(head);
      let released = false;
      tunnels.add(client);
      const release = (): void => {
        if (released) return;
        released = true;
        tunnels.delete(client);
        backend.inFlight -= 1;
        pool.releaseIfIdle(backend);
        client.destroy();
        upstream.destroy();
      };
      upstream.on('error', release);
      upstream.on('close', release);
      client.on('close', release);
      upstream.pipe(client);
      client.pipe(upstream);
      return;
    }
  };
  return {
    handle,
    closeAll() {
      for (const client of tunnels) client.destroy();
    },
  };
}

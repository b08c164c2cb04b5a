// WebSocket (and any other HTTP/1.1 Upgrade) pass-through: the handshake goes to the next
// healthy backend over a fresh connection, then bytes flow both ways untouched.

import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Logger } from '@visit-counter/shared';
import type { BackendPool } from './backend-pool.js';
import { recordUpstreamFailure, type Backend } from './backend.js';
import { NoHealthyBackendError, NoRouteError } from './errors.js';
import { readClientHead } from './forward-headers.js';

export interface UpgradeOptions {
  route: (host: string | undefined) => BackendPool | undefined;
  trustProxy: boolean;
  connectTimeoutMs: number;
  retryAfterSeconds: number;
  logger: Logger;
}

function refuse(socket: Socket, status: number, reason: string, sentence: string, extra = ''): void {
  const body = sentence + '\n';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`);
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
    if (!pool) {
      refuse(client, 404, 'Not Found', new NoRouteError(host).message, '');
      return;
    }
    const tried = new Set<Backend>();
    for (;;) {
      const backend = pool.pick(tried);
      if (!backend) {
        const error = new NoHealthyBackendError();
        refuse(client, 503, 'Service Unavailable', error.message, `retry-after: ${retryAfterSeconds}\r\n`);
        return;
      }
      tried.add(backend);
      let upstream: Socket;
      try {
        upstream = await open(backend, connectTimeoutMs);
      } catch (error) {
        const failure = recordUpstreamFailure(backend, error, logger);
        if (failure.notSent) continue;
        refuse(client, 502, 'Bad Gateway', failure.error.message);
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

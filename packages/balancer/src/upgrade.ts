// WebSocket (and any other HTTP/1.1 Upgrade) pass-through: the handshake goes to the next
// healthy backend over a fresh connection. Only its 101 makes a tunnel, in which bytes flow both
// ways untouched; any other answer is this request's answer, and the connection ends after it
// (a tunnel to one backend would carry later requests unseen: no forwarding headers, no round
// robin). Once the head has left, the request is never sent to another backend.
// /_lb/status counts an upgrade request as it counts any other: one request, and its answer
// by status class (a tunnel as 1xx), an error answer also by its code.

import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { lingerClose, type Logger, type VisitCounterError } from '@visit-counter/shared';
import type { BackendPool } from './backend-pool.js';
import { recordDraining, recordUpstreamFailure, type Backend } from './backend.js';
import { NoHealthyBackendError, NoRouteError, UpgradeBodyError } from './errors.js';
import { readClientHead } from './forward-headers.js';
import { BACKEND_HEADER } from './proxy.js';
import { CLOSE_LINES, headerLines, rawErrorResponse, statusLine } from './raw-answer.js';
import { countError, countResponse, type Stats } from './stats.js';
import { relayBody } from './upgrade-body.js';
import { sendDeclined } from './upgrade-declined.js';
import { sendHandshake, type HandshakeAnswer } from './upgrade-handshake.js';

export interface UpgradeOptions {
  route: (host: string | undefined) => BackendPool | undefined;
  trustProxy: boolean;
  connectTimeoutMs: number;
  /** How long a backend has to answer the handshake (UPSTREAM_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs: number;
  /** Silence allowed while a declined upgrade's answer body comes (UPSTREAM_BODY_TIMEOUT_MS). */
  bodyTimeoutMs: number;
  retryAfterSeconds: number;
  stats: Stats;
  logger: Logger;
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

/** The 101 head as the backend sent it: its Upgrade and Connection lines are the point. */
function switchingHead(response: IncomingMessage): string {
  return statusLine(101) + headerLines(response.rawHeaders) + '\r\n';
}

export interface UpgradeHandler {
  handle(req: IncomingMessage, client: Socket, head: Buffer): Promise<void>;
}

export function createUpgradeHandler(options: UpgradeOptions): UpgradeHandler {
  const { route, trustProxy, connectTimeoutMs, headersTimeoutMs, bodyTimeoutMs, retryAfterSeconds, stats, logger } = options;
  const forwardContext = { proto: 'http', trustProxy, generateId: randomUUID } as const;

  /**
   * The same error answer as the other paths give (format by Accept, code, request id), counted
   * as they count theirs (by code and by status), then the end.
   */
  const refuse = (client: Socket, req: IncomingMessage, error: VisitCounterError, extra: readonly string[]): void => {
    countError(stats, error.code);
    countResponse(stats, error.status);
    // Not head-only (an upgrade is a GET), and the connection ends with this answer.
    lingerClose(client, rawErrorResponse(error, req.headers.accept, extra, false, CLOSE_LINES));
  };

  const handle = async (req: IncomingMessage, client: Socket, head: Buffer): Promise<void> => {
    stats.requests += 1;
    const { headers, requestId, host } = readClientHead(req, forwardContext, true);
    const pool = route(host);
    const ids = ['x-request-id', requestId];
    if (!pool) {
      refuse(client, req, new NoRouteError(host), ids);
      return;
    }
    if (req.headers['transfer-encoding'] !== undefined) {
      // Its end could not be found without decoding it, and what follows must not reach the backend.
      refuse(client, req, new UpgradeBodyError(), ids);
      return;
    }
    const tried = new Set<Backend>();
    for (;;) {
      const backend = pool.pick(tried);
      if (!backend) {
        refuse(client, req, new NoHealthyBackendError(), [...ids, 'retry-after', String(retryAfterSeconds)]);
        return;
      }
      // As on the other paths, a retry counts when another backend really takes the request.
      if (tried.size > 0) stats.retries += 1;
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
        // The client left while the backend connection was being made: no handshake to send.
        upstream.destroy();
        return;
      }
      await exchange(req, client, head, headers, requestId, backend, pool, upstream);
      return;
    }
  };

  /** From here on the request may have reached `backend`: whatever happens, no other backend gets it. */
  const exchange = async (
    req: IncomingMessage,
    client: Socket,
    head: Buffer,
    headers: string[],
    requestId: string,
    backend: Backend,
    pool: BackendPool,
    upstream: Socket,
  ): Promise<void> => {
    backend.requests += 1;
    backend.inFlight += 1;
    logger.info({ backend: backend.id, path: req.url, requestId }, 'upgrade to %s via %s', req.headers.upgrade, backend.id);
    let released = false;
    /** The backend's part is over: no longer in flight, its connection closed. */
    const release = (): void => {
      if (released) return;
      released = true;
      backend.inFlight -= 1;
      pool.releaseIfIdle(backend);
      upstream.destroy();
    };
    const handshake = sendHandshake(upstream, { method: req.method ?? 'GET', url: req.url ?? '/', headers }, headersTimeoutMs);
    const clientGone = (): void => {
      release();
      handshake.request.destroy();
      client.destroy();
    };
    client.once('close', clientGone);
    // A client that ends its side before the answer has given up, as Node's server takes it.
    client.once('end', clientGone);
    const body = relayBody(client, head, Number(req.headers['content-length'] ?? 0), handshake.request);
    let answer: HandshakeAnswer;
    try {
      answer = await handshake.answer;
    } catch (error) {
      body.stop();
      client.off('end', clientGone);
      if (released) return; // the client left first: nobody to answer
      release();
      const failure = recordUpstreamFailure(backend, error, logger);
      logger.warn({ backend: backend.id, requestId, code: failure.error.code, cause: failure.cause }, 'upgrade via %s failed: %s', backend.id, failure.error.message);
      refuse(client, req, failure.error, ['x-request-id', requestId]);
      return;
    }
    const past = body.stop();
    client.off('end', clientGone);
    if (released) {
      answer.response.destroy();
      return;
    }
    if (!answer.switched) {
      // Declined: this answer, then the end of the connection; never a tunnel.
      const { response } = answer;
      logger.info({ backend: backend.id, requestId, status: response.statusCode }, 'upgrade declined by %s with %d', backend.id, response.statusCode ?? 0);
      // What the client sends meanwhile is read and dropped (unread, it would reset the
      // connection); the answer's body may take its time (UPSTREAM_BODY_TIMEOUT_MS between
      // bytes), and only then may the client linger.
      client.on('data', () => undefined);
      client.resume();
      response.once('end', () => lingerClose(client));
      const { draining } = sendDeclined(client, response, [BACKEND_HEADER, backend.id, 'x-request-id', requestId], bodyTimeoutMs);
      countResponse(stats, response.statusCode ?? 502);
      if (draining) recordDraining(backend, logger);
      // Cut short (the backend left, or fell silent): the client cannot get a whole answer.
      response.once('close', () => {
        if (!response.complete) client.destroy();
        release();
      });
      return;
    }
    client.off('close', clientGone);
    const cut = (): void => {
      release();
      client.destroy();
    };
    upstream.on('error', cut);
    upstream.on('close', cut);
    client.on('close', cut);
    client.write(switchingHead(answer.response), 'latin1');
    countResponse(stats, 101);
    if (answer.head.length > 0) client.write(answer.head);
    if (past.length > 0) upstream.write(past);
    upstream.pipe(client);
    client.pipe(upstream);
  };

  return {
    handle,
  };
}

// The fast path: most requests a visit counter gets are one small `GET /` head in one read.
// For those, the balancer skips Node's HTTP server (its parser, IncomingMessage and
// ServerResponse cost more CPU than the forwarding itself) and writes the answer to the socket
// directly; the backend side is the same undici Pool as always.
//
// Every connection starts here. The first read that is not a plain head (request-head.ts), a
// host with no route, no healthy backend, a refused backend connection, a pipelined request:
// the connection is handed, with the bytes just read, to Node's HTTP server and the full path
// (proxy.ts) for good. So the two paths answer alike, and every unusual case has one home.

import type { Socket } from 'node:net';
import { writeAccessLine, type Logger } from '@visit-counter/shared';
import type { BackendPool } from '../backend-pool.js';
import type { Backend } from '../backend.js';
import { clientHeadFrom, plainAddress } from '../forward-headers.js';
import { BACKEND_HEADER } from '../proxy.js';
import { recordDraining, recordUpstreamFailure } from '../backend.js';
import { ClientGoneError } from '../errors.js';
import { ForwardHandler } from '../forward-handler.js';
import { keepAliveLines, rawErrorResponse } from '../raw-answer.js';
import { RawSink } from '../raw-sink.js';
import { countError, countResponse, type Stats } from '../stats.js';
import { parseFastRequest, type FastRequest } from './request-head.js';

export interface FastPathOptions {
  route: (host: string | undefined) => BackendPool | undefined;
  stats: Stats;
  trustProxy: boolean;
  logger: Logger;
  maxHeaderSize: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  generateId: () => string;
  /** Gives the connection to Node's HTTP server, with bytes already read from it. */
  handOver: (socket: Socket, bytes: Buffer) => void;
}

/** What a failed exchange is answered from. */
interface FailedExchange {
  chunk: Buffer;
  request: FastRequest;
  pool: BackendPool;
  backend: Backend;
  handler: ForwardHandler;
  sink: RawSink;
  fields: Record<string, unknown>;
}

export interface FastPath {
  /** The server's `connection` listener. */
  accept(socket: Socket): void;
  /** Idle connections close now; busy ones after their answer. */
  close(): void;
  /** Cuts every connection still here. */
  destroyAll(): void;
}

const NOTHING = Buffer.alloc(0);

export function createFastPath(options: FastPathOptions): FastPath {
  const { stats, logger } = options;
  const connections = new Set<FastConnection>();
  const accessLevel = (): boolean => logger.isLevelEnabled('info');
  const forwardContext = { proto: 'http', trustProxy: options.trustProxy, generateId: options.generateId } as const;
  const keepAlive = keepAliveLines(Math.floor(options.keepAliveTimeoutMs / 1000));
  let closing = false;

  class FastConnection {
    readonly socket: Socket;
    /** The answer under way on this connection, if any: shutting down marks it as the connection's last. */
    private current: RawSink | undefined;
    private pending: Buffer[] = [];
    private served = false;

    constructor(socket: Socket) {
      this.socket = socket;
      socket.setNoDelay(true);
      socket.setTimeout(options.headersTimeoutMs);
      socket.on('data', this.onData);
      socket.on('timeout', this.onTimeout);
      socket.on('error', this.onError);
      socket.on('end', this.onError);
      socket.on('close', this.onClose);
    }

    private readonly onData = (chunk: Buffer): void => {
      if (this.current) {
        // A pipelined request: the full path takes the connection once this answer is out.
        this.pending.push(chunk);
        this.socket.pause();
        return;
      }
      const request = parseFastRequest(chunk, options.maxHeaderSize);
      const pool = request && options.route(request.host);
      const backend = pool?.pick();
      if (!request || !pool || !backend) {
        this.handOver(chunk);
        return;
      }
      this.forward(chunk, request, pool, backend);
    };

    private forward(chunk: Buffer, request: FastRequest, pool: BackendPool, backend: Backend): void {
      const startedAt = process.hrtime.bigint();
      const { headers, requestId } = clientHeadFrom(request.rawHeaders, plainAddress(this.socket.remoteAddress), forwardContext);
      const sink = new RawSink(this.socket, request.method === 'HEAD', request.close || closing, keepAlive);
      const extra = [BACKEND_HEADER, backend.id, 'x-request-id', requestId];
      const fields: Record<string, unknown> = { requestId, backend: backend.id };
      stats.requests += 1;
      stats.fastPath += 1;
      backend.inFlight += 1;
      backend.requests += 1;
      if (!this.served) {
        this.served = true;
        this.socket.setTimeout(options.keepAliveTimeoutMs); // idle between requests; ignored while busy
      }
      const handler = new ForwardHandler(sink, extra, () => recordDraining(backend, logger), (error) => {
        backend.inFlight -= 1;
        pool.releaseIfIdle(backend);
        const status = error ? this.failed(error, { chunk, request, pool, backend, handler, sink, fields }) : handler.status;
        if (status === undefined) return; // handed over
        if (accessLevel()) {
          writeAccessLine(logger, 'info', {
            method: request.method,
            path: request.target,
            httpVersion: '1.1',
            status,
            remoteAddress: this.socket.remoteAddress ?? '-',
            requestId,
            startedAt,
            fields,
          });
        }
        this.finished(sink.connectionClose, handler.status);
      });
      this.current = sink;
      backend.pool.dispatch({ path: request.target, method: request.method, headers, body: null }, handler);
    }

    /** Answers a failed exchange; the status for the access line, or undefined once handed over. */
    private failed(error: Error, { chunk, request, pool, backend, handler, sink, fields }: FailedExchange): number | undefined {
      if (error instanceof ClientGoneError) {
        fields['clientGone'] = true;
        this.socket.destroy();
        return 499;
      }
      const failure = recordUpstreamFailure(backend, error, logger);
      if (failure.notSent && handler.status === 0) {
        // Nothing reached the backend: the full path tries the next one with the same bytes.
        stats.requests -= 1;
        stats.fastPath -= 1;
        // As on the full path, a retry counts when another backend is there to take it.
        if (pool.list().some((other) => other.eligible)) stats.retries += 1;
        this.current = undefined;
        this.handOver(chunk);
        return undefined;
      }
      fields['upstreamError'] = failure.error.code;
      countError(stats, failure.error.code);
      if (handler.status !== 0) {
        this.socket.destroy(); // the answer was under way: cutting it is the only honest signal
        return handler.status;
      }
      const extra = ['x-request-id', fields['requestId'] as string];
      this.socket.write(rawErrorResponse(failure.error, request.accept, extra, request.method === 'HEAD', sink.lastLines()));
      countResponse(stats, failure.error.status);
      return failure.error.status;
    }

    /** `sent`: the status the answer's head went out with, 0 when none did (an error answer counts itself). */
    private finished(close: boolean, sent: number): void {
      if (sent) countResponse(stats, sent);
      this.current = undefined;
      if (this.socket.destroyed) return;
      if (close) {
        // Nothing sent after this is read: a request behind `Connection: close` must not reach
        // a backend (it would count a visit whose answer cannot be sent).
        this.socket.off('data', this.onData);
        this.pending = [];
        this.socket.end();
        return;
      }
      if (this.pending.length > 0) this.handOver(NOTHING);
    }

    /** Hands the connection over with `bytes` and whatever arrived after them. */
    private handOver(bytes: Buffer): void {
      const { socket } = this;
      const all = this.pending.length > 0 ? Buffer.concat([bytes, ...this.pending]) : bytes;
      this.pending = [];
      connections.delete(this);
      socket.setTimeout(0);
      socket.off('data', this.onData);
      socket.off('timeout', this.onTimeout);
      socket.off('error', this.onError);
      socket.off('end', this.onError);
      socket.off('close', this.onClose);
      options.handOver(socket, all);
      if (socket.isPaused()) socket.resume();
    }

    /** Idle too long (or silent since connecting): closed without a word, as Node's server does. */
    private readonly onTimeout = (): void => {
      if (!this.current) this.socket.destroy();
    };

    // An error, or the client's end of the connection: Node's server (with the half-open
    // connections it allows) treats an ended client as gone too, and so does this.
    private readonly onError = (): void => {
      this.socket.destroy();
    };

    private readonly onClose = (): void => {
      connections.delete(this);
      this.current?.clientLeft();
    };

    /**
     * Shutting down: an idle connection ends now, a busy one after its answer, which says
     * `connection: close` when its head is not out yet (as the full path's graceful close does).
     */
    close(): void {
      if (this.current) this.current.connectionClose = true;
      else this.socket.destroy(); // idle: as Node's server.closeIdleConnections() does
    }
  }

  return {
    accept(socket) {
      if (closing) {
        socket.destroy();
        return;
      }
      connections.add(new FastConnection(socket));
    },
    close() {
      closing = true;
      for (const connection of connections) connection.close();
    },
    destroyAll() {
      for (const connection of connections) connection.socket.destroy();
    },
  };
}

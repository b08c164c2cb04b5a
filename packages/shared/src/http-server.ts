// The HTTP server both services run: Node's limits set explicitly (so a malformed request,
// oversized headers or a slow client is cut off with 400, 431 or 408 and a plain sentence),
// an access log line per request, and a graceful close that lets requests in flight finish.

import { STATUS_CODES, createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { readInteger, type Env } from './config.js';
import { plainResponse } from './plain-response.js';
import { UNSUPPORTED_VERSION, checkRequest, type RequestProblem } from './request-target.js';
import { sendError } from './respond.js';

export interface HttpServerLimits {
  /** Largest request head accepted, in bytes; larger gets 431. */
  maxHeaderSize: number;
  /** Time a client has to send the whole request head, in ms; slower gets 408. */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request, in ms; slower gets 408. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open, in ms. */
  keepAliveTimeoutMs: number;
}

export const HTTP_SERVER_DEFAULTS: HttpServerLimits = {
  maxHeaderSize: 16 * 1024, // 16 KiB, Node's own default
  headersTimeoutMs: 10_000, // 10 seconds
  requestTimeoutMs: 30_000, // 30 seconds
  keepAliveTimeoutMs: 65_000, // 65 seconds: longer than any proxy's idle timeout in front of us
};

const CLIENT_ERRORS: Record<string, readonly [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'The request headers are too large.'],
  // Node (>= 18) reports both the headers and the whole-request limit with this one code.
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request took too long to arrive.'],
  // HTTP/1.2, HTTP/3.0: the same answer as for HTTP/2.0, which the parser lets through.
  HPE_INVALID_VERSION: [UNSUPPORTED_VERSION.status, UNSUPPORTED_VERSION.sentence],
};

function clientErrorResponse(error: NodeJS.ErrnoException): readonly [number, string] {
  return CLIENT_ERRORS[error.code ?? ''] ?? [400, 'The request is malformed.'];
}

/** How often Node checks for clients over their header or request time limit, in ms. */
function connectionsCheckingIntervalFor(limits: HttpServerLimits): number {
  return Math.max(10, Math.min(1_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)));
}

/** Whether an answer can still go out on this connection. */
function canAnswer(socket: Socket): boolean {
  return !socket.destroyed && !socket.writableEnded;
}

/** Node's server keeps the response being written on the socket; later pipelined ones wait their turn. */
type ServedSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Calls `then` once every response Node still owes on this connection for a complete request
 * has been written: requests that arrived before a malformed one are answered first, in order.
 * It stops waiting at a request whose body is still incomplete: the bad bytes are in that body.
 */
export function afterCompleteRequests(socket: Socket, then: () => void): void {
  const current = (socket as ServedSocket)._httpMessage;
  if (!current || !current.req.complete) {
    then();
    return;
  }
  // Node's own 'finish' listener runs first and hands the socket to the next response, if any.
  // A response that is destroyed instead never finishes, and neither can the connection.
  // Node takes its own 'drain' listener from a connection it hands over (CONNECT, Upgrade):
  // without this relay an answer larger than the socket's buffer would wait for it forever.
  const relayDrain = (): void => {
    const message = (socket as ServedSocket)._httpMessage;
    if (message?.writableNeedDrain) message.emit('drain');
  };
  socket.on('drain', relayDrain);
  current.once('finish', () => {
    socket.off('drain', relayDrain);
    afterCompleteRequests(socket, then);
  });
}

/** How long a connection that has had its last answer may take to close: what the client still sends is read and dropped. */
export const LINGER_MS = 5_000;

/**
 * Ends the connection once what was written has gone. What the client still sends is read and
 * dropped, since closing on unread bytes would reset the connection and could cost the client
 * its answer; a client that never closes its side is cut after LINGER_MS.
 */
export function lingerClose(socket: Socket, lastWrite?: string | Buffer): void {
  socket.on('error', () => socket.destroy());
  socket.on('data', () => undefined);
  socket.resume();
  // A deadline, not an idle timeout: a client that trickles bytes is cut all the same.
  const deadline = setTimeout(() => socket.destroy(), LINGER_MS);
  deadline.unref();
  socket.once('close', () => clearTimeout(deadline));
  if (lastWrite === undefined) socket.end();
  else socket.end(lastWrite);
}

/** The one log line of a request refused before any handler. */
function logClientError(logger: Logger, status: number, code: string | undefined, sentence: string, remoteAddress: string | undefined): void {
  logger.info({ code, status, remoteAddress }, 'client error: %s', sentence);
}

/** Logs a request refused before any handler and answers it with its status and sentence; the connection then closes. */
export function refuseRequest(logger: Logger, req: IncomingMessage, res: ServerResponse, problem: RequestProblem): void {
  logClientError(logger, problem.status, problem.code, problem.sentence, req.socket.remoteAddress);
  sendError(req, res, problem.status, problem.code, problem.sentence, { connection: 'close' });
}

/** Only `Expect: 100-continue` is understood (Node answers it); Node's own answer to any other is a bare 417. */
const EXPECTATION_FAILED: RequestProblem = { status: 417, code: 'HTTP_EXPECTATION_FAILED', sentence: 'The only expectation this server meets is Expect: 100-continue.' };

/** A whole plain-text answer that closes the connection, for errors met before any handler. */
function plainAnswer(status: number, sentence: string): string {
  const body = sentence + '\n';
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    `content-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}

/**
 * An Upgrade request that passed the checks every request gets, on a connection that is free
 * (the answers to requests pipelined before it have gone) and whose client is still there.
 */
export type UpgradeListener = (req: IncomingMessage, socket: Socket, head: Buffer) => void;

/** `onUpgrade`: without it, Node serves an Upgrade request as an ordinary one, through `handler`. */
export function createHttpServer(limits: HttpServerLimits, handler: RequestListener, logger: Logger, onUpgrade?: UpgradeListener): Server {
  // Connections that had an error answer. Node's parser stops at the first bad byte and reports
  // it again for every later read: the first report decides. Node's sweep may report a time
  // limit later still: a connection whose error answer has gone out is then cut.
  const failed = new WeakSet<Socket>();
  // What HTTP/1.1 asks of every request before a handler sees it (request-target.ts). Node's
  // own Host check answers 400 with an empty body and skips the services' handlers; this one
  // says why, and also takes an absolute-form target as the path it names.
  const serve: RequestListener = (req, res) => {
    // A request completed on a connection that has had its error answer (a 408: the parser
    // reads on) is not served: its client was told the request failed.
    if (failed.has(req.socket)) {
      // Its 408 already went out: nothing more. Still to go (an earlier answer holds the
      // connection): this response carries it, in order.
      const [status, sentence] = CLIENT_ERRORS['ERR_HTTP_REQUEST_TIMEOUT'] as readonly [number, string];
      if (req.socket.writableEnded) res.destroy();
      else sendError(req, res, status, 'HTTP_REQUEST_TIMEOUT', sentence, { connection: 'close' });
      return;
    }
    const problem = checkRequest(req);
    if (problem) {
      refuseRequest(logger, req, res, problem);
      return;
    }
    // Pipelined requests are handled one at a time, as nginx does: Node hands each over as it
    // parses it, but gives its response the connection only once the answer before it is out.
    // Until then the handler waits (RFC 9112 9.3.2 allows parallel work only for safe
    // methods). A request behind an answer that closes the connection (an error, a
    // `Connection: close`) is never handled, so never forwarded or counted: no answer to it
    // could be sent. Nothing is allocated for a request whose connection is free.
    if (res.socket) {
      if (canAnswer(res.socket)) handler(req, res);
    } else res.once('socket', (socket: Socket) => canAnswer(socket) && handler(req, res));
  };
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderSize,
      requestTimeout: limits.requestTimeoutMs,
      requireHostHeader: false,
      // Node enforces both timeouts only when it sweeps its connections (every 30 s by default),
      // so a 10 s limit could take 40 s: sweep at a fraction of the shorter limit, at most every second.
      connectionsCheckingInterval: connectionsCheckingIntervalFor(limits),
    },
    serve,
  );
  server.headersTimeout = limits.headersTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: ServedSocket) => {
    if (failed.has(socket)) {
      if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' && !socket.writable) socket.destroy();
      return;
    }
    failed.add(socket);
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // Bytes after a request that said `Connection: close` are ignored, as nginx does: that
    // request is answered and the connection then closes.
    if (error.code === 'HPE_CLOSED_CONNECTION') {
      if (!socket._httpMessage) socket.destroy();
      return;
    }
    const [status, sentence] = clientErrorResponse(error);
    logClientError(logger, status, error.code, sentence, socket.remoteAddress);
    // Complete requests before the bad one (pipelined in the same packets) get their answers
    // first; then the error, and the connection closes. Its headers could not be read, so the
    // error is plain text whatever the client would have accepted.
    afterCompleteRequests(socket, () => {
      if (!socket.writable) return;
      // An answer already under way cannot be followed by an error head.
      if (socket._httpMessage?.headersSent) socket.destroy();
      else lingerClose(socket, plainAnswer(status, sentence));
    });
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => refuseRequest(logger, req, res, EXPECTATION_FAILED));
  // CONNECT asks for a tunnel, which neither service offers; without a listener Node would
  // drop the connection without a word.
  // Requests pipelined before it are answered first, as before a malformed request.
  server.on('connect', (_req: IncomingMessage, socket: ServedSocket) => {
    const sentence = 'CONNECT is not supported: this server is not a forward proxy.';
    logClientError(logger, 405, 'HTTP_CONNECT_UNSUPPORTED', sentence, socket.remoteAddress);
    socket.on('error', () => socket.destroy());
    afterCompleteRequests(socket, () => (socket.writable ? lingerClose(socket, plainAnswer(405, sentence)) : socket.destroy()));
  });
  if (onUpgrade) {
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      // Node took its 'error' listener with the connection: a reset while waiting must not throw.
      socket.on('error', () => socket.destroy());
      // A client that ends its side while the answers before this one go out has given up.
      let ended = false;
      const onEnd = (): void => {
        ended = true;
      };
      socket.once('end', onEnd);
      // Requests pipelined before this one are answered first: their answers hold the socket.
      afterCompleteRequests(socket, () => {
        socket.off('end', onEnd);
        if (socket.destroyed || ended || !socket.writable) {
          socket.destroy();
          return;
        }
        socket.setTimeout(0); // Node's keep-alive timer from the last answer
        // Node hands an upgrade request over past `serve`: the same checks here.
        const problem = checkRequest(req);
        if (problem) refuseRequest(logger, req, plainResponse(req, socket), problem);
        else onUpgrade(req, socket, head);
      });
    });
  }
  return server;
}

/** Connections the kernel may queue before we accept them (Node's own default is 511). */
export const LISTEN_BACKLOG = 4096;

/**
 * `reusePort`: a socket of this process's own with SO_REUSEPORT (Node 22.12+ or 23.1+, Linux or
 * FreeBSD), shared with other processes on the port. Node 20's types lack the option.
 */
export function listen(server: Server, port: number, host?: string, { reusePort = false }: { reusePort?: boolean } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    // A deep accept queue: a burst of new connections (wrk -c1000) waits instead of being dropped.
    server.listen({ port, backlog: LISTEN_BACKLOG, ...(host === undefined ? {} : { host }), ...(reusePort ? { reusePort } : {}) }, done);
  });
}

/**
 * Stops accepting, lets requests in flight finish for up to `graceMs`, then cuts what is left.
 * `alsoClose` stops other listening handles whose connections the server serves (the
 * balancer's MAX_ACCEPT copies): the grace period and its cut cover their connections too.
 * Idempotent: a second call returns the first call's promise.
 */
export function createGracefulClose(server: Server, graceMs: number, alsoClose: () => Promise<void> = () => Promise.resolve()): () => Promise<void> {
  let closing: Promise<void> | undefined;
  // Once closing, every response still to finish ends its connection: otherwise a keep-alive
  // client keeps the server open until the grace period and may even send it new requests.
  // The latest response of each open connection: one map entry per connection, not per request.
  const latest = new Map<Socket, ServerResponse>();
  const endConnectionAfter = (res: ServerResponse): void => {
    if (!res.headersSent) {
      res.setHeader('connection', 'close');
      return;
    }
    const socket = res.socket as ServedSocket | null;
    // Node's own 'finish' listener runs first and hands the connection to a response queued
    // behind this one: that one has its `Connection: close` (set when it came) and ends the
    // connection itself once it has been answered; ending it here would cut that answer off.
    res.once('finish', () => {
      if (socket && !socket._httpMessage) socket.end();
    });
  };
  // Every open connection, for the cut at the end of the grace period: Node's own list leaves
  // out those it handed over (CONNECT, upgrades).
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      latest.delete(socket);
    });
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (closing) {
      endConnectionAfter(res);
      return;
    }
    latest.set(req.socket, res);
  });
  return () => {
    closing ??= new Promise<void>((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      for (const res of latest.values()) if (!res.writableFinished) endConnectionAfter(res);
      const timer = setTimeout(() => {
        for (const socket of open) socket.destroy();
      }, graceMs);
      timer.unref();
      const own = new Promise<void>((closed) => server.close(() => closed()));
      void Promise.all([own, alsoClose()]).then(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    });
    return closing;
  };
}

export interface AccessLogFields {
  [key: string]: unknown;
}

/** What one access line says about one exchange. */
export interface AccessLine {
  method: string | undefined;
  path: string | undefined;
  httpVersion: string;
  status: number;
  remoteAddress: string;
  requestId: string | undefined;
  startedAt: bigint;
  fields: AccessLogFields;
}

/** Writes one access line: the classic `"GET / HTTP/1.1" 200` shape of web server logs, plus JSON fields. */
export function writeAccessLine(logger: Logger, level: 'info' | 'debug', line: AccessLine): void {
  const durationMs = Number(process.hrtime.bigint() - line.startedAt) / 1e6;
  logger[level](
    {
      method: line.method,
      path: line.path,
      status: line.status,
      durationMs: Math.round(durationMs * 100) / 100,
      remoteAddress: line.remoteAddress,
      requestId: line.requestId,
      ...line.fields,
    },
    '%s - - "%s %s HTTP/%s" %d %s',
    line.remoteAddress,
    line.method,
    line.path,
    line.httpVersion,
    line.status,
    `${durationMs.toFixed(1)}ms`,
  );
}

/** One access line per request, written when the response finishes (or the client goes away). */
export function logAccess(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  startedAt: bigint,
  fields: AccessLogFields = {},
  level: 'info' | 'debug' = 'info',
): void {
  if (!logger.isLevelEnabled(level)) return;
  let logged = false;
  // Read now: by the time the response is done the socket may be gone.
  const remoteAddress = req.socket?.remoteAddress ?? '-';
  const write = (): void => {
    if (logged) return;
    logged = true;
    const requestId = req.headers['x-request-id'];
    writeAccessLine(logger, level, {
      method: req.method,
      path: req.url,
      httpVersion: req.httpVersion,
      status: res.writableFinished ? res.statusCode : 499,
      remoteAddress,
      requestId: Array.isArray(requestId) ? requestId[0] : requestId,
      startedAt,
      fields,
    });
  };
  res.once('finish', write);
  res.once('close', write);
}

/** The server limits from the environment; every service documents the same four variables. */
export function readHttpServerLimits(env: Env): HttpServerLimits {
  return {
    maxHeaderSize: readInteger(env, 'MAX_HEADER_SIZE', HTTP_SERVER_DEFAULTS.maxHeaderSize, { min: 1024, max: 1024 * 1024 }),
    headersTimeoutMs: readInteger(env, 'CLIENT_HEADERS_TIMEOUT_MS', HTTP_SERVER_DEFAULTS.headersTimeoutMs, { min: 1 }),
    requestTimeoutMs: readInteger(env, 'CLIENT_REQUEST_TIMEOUT_MS', HTTP_SERVER_DEFAULTS.requestTimeoutMs, { min: 1 }),
    keepAliveTimeoutMs: readInteger(env, 'KEEP_ALIVE_TIMEOUT_MS', HTTP_SERVER_DEFAULTS.keepAliveTimeoutMs, { min: 1 }),
  };
}

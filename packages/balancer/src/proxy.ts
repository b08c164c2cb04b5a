// Forwarding one request: pick a backend round-robin, stream the request to it with undici's
// dispatch API, stream the answer back (forward-handler.ts). When the connection could not even be made, the request (body
// included: it is read only once a connection is up) has not reached the backend and goes to
// the next one (each backend at most once); anything that may have reached a backend is never
// sent again, since a visit would count twice.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, type Logger, type VisitCounterError } from '@visit-counter/shared';
import type { Dispatcher } from 'undici';
import { recordDraining, recordUpstreamFailure, type Backend } from './backend.js';
import type { BackendPool } from './backend-pool.js';
import { ClientGoneError, NoHealthyBackendError, NoRouteError } from './errors.js';
import { ForwardHandler } from './forward-handler.js';
import { readClientHead } from './forward-headers.js';
import { bodyAttempt, type BodyAttempt } from './request-body.js';
import { ResponseSink } from './response-sink.js';
import { countError, type Stats } from './stats.js';

export const BACKEND_HEADER = 'x-backend';

export interface ProxyOptions {
  /** The pool that serves a request's Host; undefined: no route for it. */
  route: (host: string | undefined) => BackendPool | undefined;
  stats: Stats;
  trustProxy: boolean;
  retryAfterSeconds: number;
  logger: Logger;
}

export type ProxyHandler = (req: IncomingMessage, res: ServerResponse, log: Record<string, unknown>) => Promise<void>;

export function createProxy({ route, stats, trustProxy, retryAfterSeconds, logger }: ProxyOptions): ProxyHandler {
  const forwardContext = { proto: 'http', trustProxy, generateId: randomUUID } as const;
  const forwardOnce = (backend: Backend, req: IncomingMessage, res: ServerResponse, headers: string[], extra: readonly string[], body: BodyAttempt | undefined) =>
    new Promise<void>((resolve, reject) => {
      const handler = new ForwardHandler(new ResponseSink(res), extra, () => recordDraining(backend, logger), (error) => (error ? reject(error) : resolve()));
      backend.pool.dispatch(
        { path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers, body: body ? body.stream : null },
        handler,
      );
    });

  const fail = (req: IncomingMessage, res: ServerResponse, error: VisitCounterError, requestId: string): void => {
    countError(stats, error.code);
    if (res.headersSent) {
      res.destroy(error);
      return;
    }
    const headers = error.status === 503 ? { 'retry-after': String(retryAfterSeconds), 'x-request-id': requestId } : { 'x-request-id': requestId };
    sendError(req, res, error.status, error.code, error.message, headers);
  };

  return async (req, res, log) => {
    const { headers, requestId, host, hasBody: body } = readClientHead(req, forwardContext);
    log['requestId'] = requestId;
    const pool = route(host);
    if (!pool) {
      fail(req, res, new NoRouteError(host), requestId);
      return;
    }
    const tried = new Set<Backend>();
    for (;;) {
      const backend = pool.pick(tried);
      if (!backend) {
        fail(req, res, new NoHealthyBackendError(), requestId);
        return;
      }
      // A retry is counted when another backend really takes the request, not when one refused.
      if (tried.size > 0) stats.retries += 1;
      tried.add(backend);
      log['backend'] = backend.id;
      backend.inFlight += 1;
      backend.requests += 1;
      const attempt = body ? bodyAttempt(req) : undefined;
      try {
        await forwardOnce(backend, req, res, headers, [BACKEND_HEADER, backend.id, 'x-request-id', requestId], attempt);
        return;
      } catch (error) {
        if (error instanceof ClientGoneError) {
          log['clientGone'] = true;
          res.destroy();
          return;
        }
        const failure = recordUpstreamFailure(backend, error, logger);
        if (failure.notSent && !attempt?.started && !res.headersSent) continue;
        log['upstreamError'] = failure.error.code;
        fail(req, res, failure.error, requestId);
        return;
      } finally {
        backend.inFlight -= 1;
        pool.releaseIfIdle(backend);
      }
    }
  };
}

// The web replica's routes: `/` counts a visit; the rest only read. Unknown paths get 404,
// known paths with another method 405 with `Allow`. Only GET / ever touches the counter.

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CONTENT_TYPES,
  DRAINING_HEADER,
  VisitCounterError,
  negotiateFormat,
  renderMessage,
  renderVisit,
  send,
  sendError,
  type Logger,
  type MessageTemplate,
} from '@visit-counter/shared';
import type { Counter } from './counter.js';
import type { RedisConnection } from './redis-client.js';
import { CounterTimeoutError, CounterUnavailableError, MethodNotAllowedError, NotFoundError, ShuttingDownError, VisitorLeftError } from './errors.js';

export interface RouteContext {
  counter: Counter;
  connection: RedisConnection;
  hostname: string;
  port: () => number;
  template: MessageTemplate;
  readyTimeoutMs: number;
  /** True once shutdown began: responses say so, and readiness fails. */
  draining: () => boolean;
  logger: Logger;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

const NO_STORE = { 'cache-control': 'no-store' };

export function createRouter(ctx: RouteContext): Handler {
  let instanceVisits = 0;

  /** Resolves when Redis is usable and answers a PING within the visit deadline; else throws what a visit would get. */
  const redisAnswers = async (onTimeout: () => VisitCounterError): Promise<void> => {
    if (!ctx.connection.usable()) throw new CounterUnavailableError();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ctx.connection.redis.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(onTimeout()), ctx.readyTimeoutMs);
        }),
      ]);
    } catch (error) {
      throw error instanceof VisitCounterError ? error : new CounterUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
  };

  const visit: Handler = async (req, res) => {
    const format = negotiateFormat(req.headers.accept);
    if (req.method === 'HEAD') {
      // HEAD tells what GET would send but must not count a visit: the status too, so a
      // monitor probing HEAD / sees the 503 a visitor would (Redis down, frozen, wrong database).
      await redisAnswers(() => new CounterTimeoutError(ctx.readyTimeoutMs));
      res.writeHead(200, { ...NO_STORE, 'content-type': CONTENT_TYPES[format] });
      res.end();
      return;
    }
    // A visit that cannot get its answer is not counted: its client has gone (Node's HTTP
    // server ends a request whose client closed, half-closed included, as nginx does), or the
    // connection can no longer carry an answer. (A visit pipelined behind an answer that ends
    // its connection never gets here: the shared server hands over no such request.)
    const unanswerable = (): boolean => req.socket.readableEnded || req.socket.destroyed || req.socket.writableEnded;
    const visits = await ctx.counter.next(unanswerable);
    instanceVisits += 1;
    const rendered = renderVisit({ visits, instanceVisits, hostname: ctx.hostname, port: ctx.port() }, format, ctx.template);
    send(req, res, 200, rendered, NO_STORE);
  };

  const host: Handler = (req, res) => {
    send(req, res, 200, renderMessage(ctx.hostname, negotiateFormat(req.headers.accept), {}, 'hostname'), NO_STORE);
  };

  const date: Handler = (req, res) => {
    send(req, res, 200, renderMessage(new Date().toISOString(), negotiateFormat(req.headers.accept), {}, 'date'), NO_STORE);
  };

  const healthz: Handler = (req, res) => {
    send(req, res, 200, renderMessage('ok', negotiateFormat(req.headers.accept), {}, 'status'), NO_STORE);
  };

  const readyz: Handler = async (req, res) => {
    const format = negotiateFormat(req.headers.accept);
    if (ctx.draining()) throw new ShuttingDownError();
    await redisAnswers(() => new CounterUnavailableError());
    send(req, res, 200, renderMessage('ready', format, {}, 'status'), NO_STORE);
  };

  const routes = new Map<string, Handler>([
    ['/', visit],
    ['/host', host],
    ['/date', date],
    ['/healthz', healthz],
    ['/readyz', readyz],
  ]);
  const allowed = ['GET', 'HEAD'];

  return async (req, res) => {
    const path = pathOf(req.url);
    if (ctx.draining()) res.setHeader(DRAINING_HEADER, '1');
    try {
      const handler = routes.get(path);
      if (!handler) throw new NotFoundError(path);
      if (!allowed.includes(req.method ?? '')) throw new MethodNotAllowedError(req.method ?? '', path, allowed);
      await handler(req, res);
    } catch (error) {
      // Nobody is left to answer; the access log records 499.
      if (error instanceof VisitorLeftError) return;
      if (error instanceof VisitCounterError) {
        // A draining replica failing its probes is the plan, not a fault: no warning per probe.
        if (error.status >= 500 && !(error instanceof ShuttingDownError)) ctx.logger.warn({ code: error.code, err: error.cause ?? error.message }, error.message);
        const headers = error instanceof MethodNotAllowedError ? { allow: error.allow } : error.status === 503 ? { 'retry-after': '1' } : {};
        sendError(req, res, error.status, error.code, error.message, headers);
        return;
      }
      ctx.logger.error({ err: error }, 'unexpected error');
      sendError(req, res, 500, 'WEB_INTERNAL', 'Something went wrong on this replica; the visit was not counted.');
    }
  };
}

/** Health probes (`/healthz`, `/readyz`, any query): every few seconds from every balancer. */
export function isProbe(url: string | undefined): boolean {
  const path = pathOf(url);
  return path === '/healthz' || path === '/readyz';
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

// The web replica assembled: Redis client, counter, routes and HTTP server. Tests build it
// on port 0 with their own Redis and logger; main.ts builds it from the environment.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ListenError, createGracefulClose, createHttpServer, listen, logAccess, type Logger } from '@visit-counter/shared';
import type { WebConfig } from './config.js';
import { createCounter, replyMargin } from './counter.js';
import { createRedisClient } from './redis-client.js';
import { createRouter, isProbe } from './routes.js';

export interface WebService {
  server: Server;
  /** Starts listening (and connecting to Redis); resolves with the port. */
  listen(): Promise<number>;
  /** Stops accepting, finishes requests in flight, quits Redis. Idempotent. */
  close(): Promise<void>;
}

export function createWebService(config: WebConfig, logger: Logger): WebService {
  const connection = createRedisClient(config.redisUrl, config.redisDatabase, config.redisTimeoutMs, logger);
  const { redis } = connection;
  const counter = createCounter({
    connection,
    key: config.redisKey,
    timeoutMs: config.redisTimeoutMs,
    reconcileMs: config.redisReconcileMs,
    logger,
  });
  let server: Server | undefined;
  // Once close() has begun, the replica drains: it says so on every answer and /readyz fails.
  let closing: Promise<void> | undefined;
  const route = createRouter({
    counter,
    connection,
    hostname: config.instanceName,
    port: () => (server?.address() as AddressInfo | null)?.port ?? config.port,
    template: config.messageTemplate,
    readyTimeoutMs: config.redisTimeoutMs,
    draining: () => closing !== undefined,
    logger,
  });
  server = createHttpServer(
    config.limits,
    (req, res) => {
      // Probes (every few seconds from every balancer and orchestrator) log at debug level.
      const probe = isProbe(req.url);
      logAccess(logger, req, res, process.hrtime.bigint(), {}, probe ? 'debug' : 'info');
      const requestId = req.headers['x-request-id'];
      if (typeof requestId === 'string') res.setHeader('x-request-id', requestId);
      void route(req, res);
    },
    logger,
  );
  const closeServer = createGracefulClose(server, config.shutdownGraceMs);

  return {
    server,
    async listen() {
      // Connect in the background: a replica starts even when Redis is not up yet and answers 503 until it is.
      redis.connect().catch(() => undefined);
      const port = await listen(server, config.port, config.host).catch((error: unknown) => {
        throw new ListenError('The replica', 'WEB_LISTEN_FAILED', config.host, config.port, error);
      });
      logger.info({ port, instance: config.instanceName }, 'web replica listening on port %d', port);
      return port;
    },
    close() {
      closing ??= (async () => {
        // Serve on, flagged as draining, so a balancer takes this replica out of rotation
        // before any connection closes (SHUTDOWN_DRAIN_MS; 0 closes at once).
        if (config.shutdownDrainMs > 0 && server?.listening) {
          await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs));
        }
        // Visits still waiting for Redis (held for reconciliation, or sent) when the grace period
        // ends are answered 503 "outcome unknown" just before the cut, not reset with it.
        const answerTheRest = setTimeout(() => counter.giveUp(), config.shutdownGraceMs - replyMargin(config.shutdownGraceMs));
        await closeServer();
        clearTimeout(answerTheRest);
        // A frozen Redis never answers QUIT: wait for it no longer than for a visit, then drop it.
        let timer: NodeJS.Timeout | undefined;
        const quitTimedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), config.redisTimeoutMs);
        });
        const quit = await Promise.race([redis.quit().then(() => true, () => false), quitTimedOut]);
        clearTimeout(timer);
        if (!quit) redis.disconnect();
      })();
      return closing;
    },
  };
}

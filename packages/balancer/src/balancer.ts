// The balancer assembled: pool, discovery, health checks, proxy, admin endpoints and the
// HTTP server. Data flows one way: request -> admin or proxy -> pick -> forward -> respond.
// Tests build it on port 0 with their own resolver and logger; main.ts builds it from the
// environment.

import type { Server } from 'node:http';
import { createGracefulClose, createHttpServer, listen, logAccess, type Logger } from '@visit-counter/shared';
import { createAdmin, isAdminPath } from './admin.js';
import type { ClusterLink } from './cluster.js';
import { BackendPool } from './backend-pool.js';
import { publicConfig, type BalancerConfig } from './config.js';
import { createDnsDiscovery, dnsServerResolve, systemResolve, type DnsDiscovery, type ResolveAddresses } from './discovery.js';
import { createHealthChecker, type HealthChecker } from './health-checker.js';
import { createProxy } from './proxy.js';
import { countResponse, createStats } from './stats.js';
import { createUpgradeHandler } from './upgrade.js';

export interface BalancerDeps {
  logger: Logger;
  /** DNS look-up for BACKENDS_DNS; defaults to DNS_SERVER when set, else the system resolver. */
  resolve?: ResolveAddresses;
  /** Extra fields for /_lb/status. */
  statusExtra?: () => Record<string, unknown>;
  /** Set in a worker process of a WORKERS > 1 balancer. */
  cluster?: ClusterLink;
}

export interface Balancer {
  server: Server;
  pool: BackendPool;
  health: HealthChecker;
  discovery: DnsDiscovery | undefined;
  status(): Record<string, unknown>;
  listen(): Promise<number>;
  close(): Promise<void>;
}

export function createBalancer(config: BalancerConfig, deps: BalancerDeps): Balancer {
  const { logger } = deps;
  const pool = new BackendPool(config.upstream);
  const stats = createStats();
  const health = createHealthChecker(pool, config.health, logger);
  pool.setAddresses('static', config.backends);
  const discovery = config.dns
    ? createDnsDiscovery(
        pool,
        {
          name: config.dns.name,
          port: config.dns.port,
          intervalMs: config.dns.intervalMs,
          resolve: deps.resolve ?? (config.dns.server ? dnsServerResolve(config.dns.server) : systemResolve),
        },
        logger,
      )
    : undefined;
  const admin = createAdmin({
    pool,
    stats,
    adminToken: config.adminToken,
    config: publicConfig(config),
    logger,
    ...(deps.statusExtra ? { extra: deps.statusExtra } : {}),
    ...(deps.cluster ? { cluster: deps.cluster } : {}),
  });
  const proxy = createProxy({ pool, stats, trustProxy: config.trustProxy, retryAfterSeconds: config.retryAfterSeconds, logger });

  const server = createHttpServer(
    config.limits,
    (req, res) => {
      const fields: Record<string, unknown> = {};
      logAccess(logger, req, res, process.hrtime.bigint(), fields);
      if (isAdminPath(req.url)) {
        admin.handle(req, res);
        return;
      }
      stats.requests += 1;
      res.once('finish', () => countResponse(stats, res.statusCode));
      proxy(req, res, fields).catch((error: unknown) => {
        logger.error({ err: error }, 'unexpected proxy error');
        res.destroy();
      });
    },
    logger,
  );
  const upgrade = createUpgradeHandler({
    pool,
    trustProxy: config.trustProxy,
    connectTimeoutMs: config.upstream.connectTimeoutMs,
    retryAfterSeconds: config.retryAfterSeconds,
    logger,
  });
  server.on('upgrade', (req, socket, head) => void upgrade.handle(req, socket as import('node:net').Socket, head));
  const closeServer = createGracefulClose(server, config.shutdownGraceMs);
  let closing: Promise<void> | undefined;

  return {
    server,
    pool,
    health,
    discovery,
    status: admin.status,
    async listen() {
      await discovery?.refresh();
      const port = await listen(server, config.port, config.host);
      logger.info({ port, backends: pool.list().map((b) => b.id) }, 'balancer listening on port %d', port);
      return port;
    },
    close() {
      closing ??= (async () => {
        discovery?.close();
        // Upgraded connections keep the server from closing, yet are no longer its to cut:
        // they get the same grace period as requests in flight.
        const cutTunnels = setTimeout(() => upgrade.closeAll(), config.shutdownGraceMs);
        cutTunnels.unref();
        await closeServer();
        clearTimeout(cutTunnels);
        await health.close();
        await pool.close();
      })();
      return closing;
    },
  };
}

// The balancer assembled: groups of backends (pool, discovery, health checks), the host
// router, proxy, admin endpoints and the HTTP server. Data flows one way:
// request -> admin or route -> pick -> forward -> respond.
// Tests build it on port 0 with their own resolver and logger; main.ts builds it from the
// environment.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { ListenError, createGracefulClose, createHttpServer, listen, logAccess, plainResponse, type Logger } from '@visit-counter/shared';
import { addAcceptHandles, type AcceptHandles } from './accept-handles.js';
import { createAdmin, isAdminPath } from './admin.js';
import type { ClusterLink } from './cluster-worker.js';
import type { BackendPool } from './backend-pool.js';
import { publicConfig, type BalancerConfig } from './config.js';
import { dnsServerResolve, systemResolve, type DnsDiscovery, type ResolveAddresses } from './discovery.js';
import type { HealthChecker } from './health-checker.js';
import { createFastPath, type FastPath, type FastPathOptions as FastPathDeps } from './fast-path/fast-path.js';
import { createHostRouter } from './host-router.js';
import { createUpstreamGroup, type UpstreamGroup } from './upstream-group.js';
import type { PortSharing } from './port-sharing.js';
import { createProxy } from './proxy.js';
import { countResponse, createStats } from './stats.js';
import { createUpgradeHandler } from './upgrade.js';

export interface BalancerDeps {
  logger: Logger;
  /** DNS look-up for BACKENDS_DNS; defaults to DNS_SERVER when set, else the system resolver. */
  resolve?: ResolveAddresses;
  /** Set in a worker process of a WORKERS > 1 balancer. */
  cluster?: ClusterLink;
  /** How this process shares its port with the other workers (port-sharing.ts); 'single' by default. */
  portSharing?: PortSharing;
}

export interface Balancer {
  server: Server;
  /** The default group (BACKENDS, BACKENDS_DNS): its pool, checks and DNS discovery. */
  pool: BackendPool;
  health: HealthChecker;
  discovery: DnsDiscovery | undefined;
  /** Every group: the default one first, then one per HOST_ROUTES entry. */
  groups: readonly UpstreamGroup[];
  status(): Record<string, unknown>;
  setDrained(backendId: string, drained: boolean): void;
  listen(): Promise<number>;
  close(): Promise<void>;
}

export function createBalancer(config: BalancerConfig, deps: BalancerDeps): Balancer {
  const { logger } = deps;
  const stats = createStats(deps.portSharing);
  const resolve = deps.resolve ?? (config.dnsServer ? dnsServerResolve(config.dnsServer) : systemResolve);
  const defaultGroup = createUpstreamGroup(
    { route: '*', backends: config.backends, dns: config.dns ? [config.dns] : [] },
    config,
    resolve,
    logger,
  );
  const routed = config.hostRoutes.map((route) =>
    createUpstreamGroup(
      {
        route: route.pattern,
        backends: route.targets.filter((target) => isIP(target.host) !== 0),
        dns: route.targets.filter((target) => isIP(target.host) === 0),
      },
      config,
      resolve,
      logger,
    ),
  );
  const groups = [defaultGroup, ...routed];
  const hasDefault = config.backends.length > 0 || config.dns !== undefined;
  const route = createHostRouter(
    routed.map((group) => ({ pattern: group.route, target: group.pool })),
    hasDefault ? defaultGroup.pool : undefined,
  );
  const { pool, health } = defaultGroup;
  const discovery = defaultGroup.discoveries[0];
  const admin = createAdmin({
    groups,
    stats,
    adminToken: config.adminToken,
    config: publicConfig(config),
    logger,
    ...(deps.cluster ? { cluster: deps.cluster } : {}),
  });
  const proxy = createProxy({ route, stats, trustProxy: config.trustProxy, retryAfterSeconds: config.retryAfterSeconds, logger });

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const fields: Record<string, unknown> = {};
    logAccess(logger, req, res, process.hrtime.bigint(), fields);
    if (isAdminPath(req.url)) {
      admin.handle(req, res);
      return;
    }
    stats.requests += 1;
    proxy(req, res, fields).then(
      // A client that left before any answer got none: nothing to count.
      () => res.headersSent && countResponse(stats, res.statusCode),
      (error: unknown) => {
        logger.error({ err: error }, 'unexpected proxy error');
        res.destroy();
      },
    );
  };
  const upgrade = createUpgradeHandler({
    route,
    trustProxy: config.trustProxy,
    connectTimeoutMs: config.upstream.connectTimeoutMs,
    headersTimeoutMs: config.upstream.headersTimeoutMs,
    bodyTimeoutMs: config.upstream.bodyTimeoutMs,
    retryAfterSeconds: config.retryAfterSeconds,
    stats,
    logger,
  });
  // The balancer's own endpoints answer an upgrade request as a plain one, never forwarded.
  const server = createHttpServer(config.limits, onRequest, logger, (req, socket, head) => {
    if (isAdminPath(req.url)) onRequest(req, plainResponse(req, socket));
    else
      upgrade.handle(req, socket, head).catch((error: unknown) => {
        logger.error({ err: error }, 'unexpected upgrade error');
        socket.destroy();
      });
  });
  /** The MAX_ACCEPT handles, once listen() has asked for them; undefined inside: none were added. */
  let adding: Promise<AcceptHandles | undefined> | undefined;
  const closeServer = createGracefulClose(server, config.shutdownGraceMs, async () => (await adding)?.close());
  const fast = config.fastPath ? installFastPath(server, config, { route, stats, logger }) : undefined;
  let closing: Promise<void> | undefined;

  /** MAX_ACCEPT: extra listening handles; without them the balancer still serves, one accept per turn. */
  const addExtraHandles = async (): Promise<AcceptHandles | undefined> => {
    try {
      const handles = await addAcceptHandles(server, config.maxAccept - 1);
      stats.acceptPerTurn = config.maxAccept;
      return handles;
    } catch (error) {
      logger.warn({ err: error }, 'accepting one connection per event-loop turn: %s', (error as Error).message);
      return undefined;
    }
  };

  const setDrained = (backendId: string, drained: boolean): void => {
    for (const group of groups) group.pool.get(backendId)?.setDrained(drained);
  };

  return {
    server,
    pool,
    health,
    discovery,
    groups,
    status: admin.status,
    setDrained,
    async listen() {
      await Promise.all(groups.map((group) => group.refresh()));
      // A worker started after an operator's drain honours it before it takes a request; asked
      // after discovery, so that a drained backend found by DNS is in the pool by then.
      for (const id of (await deps.cluster?.operatorDrains()) ?? []) setDrained(id, true);
      const port = await listen(server, config.port, config.host, { reusePort: stats.portSharing === 'reuseport' }).catch((error: unknown) => {
        throw new ListenError('The balancer', 'LB_LISTEN_FAILED', config.host, config.port, error);
      });
      deps.cluster?.listening(); // it serves from now on, whatever becomes of the extra handles
      adding = addExtraHandles();
      await adding;
      logger.info(
        { port, acceptPerTurn: stats.acceptPerTurn, portSharing: stats.portSharing, routes: groups.map((group) => ({ route: group.route, backends: group.pool.list().map((b) => b.id) })) },
        'balancer listening on port %d',
        port,
      );
      return port;
    },
    close() {
      closing ??= (async () => {
        await adding; // a close() during listen() waits for the handles, then closes them too
        for (const group of groups) for (const dns of group.discoveries) dns.close();
        // The fast path's connections are not Node's server's to cut: they get the same grace
        // period as requests in flight (the graceful close cuts the rest, tunnels included).
        const cutFastPath = setTimeout(() => fast?.destroyAll(), config.shutdownGraceMs);
        cutFastPath.unref();
        fast?.close();
        await closeServer();
        clearTimeout(cutFastPath);
        await Promise.all(groups.map((group) => group.close()));
      })();
      return closing;
    },
  };
}

/**
 * Puts the fast path in front of Node's HTTP server: the server's own `connection` listeners
 * run only for connections the fast path hands over, followed by the bytes it already read.
 */
function installFastPath(server: Server, config: BalancerConfig, deps: Pick<FastPathDeps, 'route' | 'stats' | 'logger'>): FastPath {
  const listeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  const fast = createFastPath({
    ...deps,
    trustProxy: config.trustProxy,
    maxHeaderSize: config.limits.maxHeaderSize,
    headersTimeoutMs: config.limits.headersTimeoutMs,
    keepAliveTimeoutMs: config.limits.keepAliveTimeoutMs,
    generateId: randomUUID,
    handOver(socket, bytes) {
      for (const listener of listeners) listener.call(server, socket);
      if (bytes.length > 0) socket.emit('data', bytes);
    },
  });
  server.on('connection', fast.accept);
  return fast;
}

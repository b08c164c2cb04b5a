// The balancer's configuration: read from the environment once, at start-up.

import { isIP } from 'node:net';
import {
  ConfigError,
  parseHostPort,
  readBoolean,
  readHost,
  readHostPort,
  readHostPortList,
  readHttpServerLimits,
  readInteger,
  readLogOptions,
  readOptionalString,
  readPort,
  readString,
  type Env,
  type HostPort,
  type HttpServerLimits,
  type LogFormat,
  type LogLevel,
} from '@visit-counter/shared';

export const BALANCER_DEFAULTS = {
  port: 8080,
  dnsIntervalMs: 5_000, // 5 seconds between DNS look-ups of BACKENDS_DNS
  healthPath: '/readyz',
  healthIntervalMs: 2_000, // 2 seconds between checks of one backend (HAProxy's `inter 2s`)
  healthTimeoutMs: 1_000, // 1 second for a check to answer
  healthRise: 2, // consecutive passed checks that bring a down backend up
  healthFall: 3, // consecutive failed checks that take an up backend down
  connectionsPerBackend: 128, // most open connections to one backend
  connectTimeoutMs: 1_000, // 1 second to open a connection to a backend
  headersTimeoutMs: 30_000, // 30 seconds for a backend to send response headers (504 after)
  bodyTimeoutMs: 30_000, // 30 seconds of silence while a backend sends the body
  upstreamKeepAliveMs: 4_000, // 4 seconds an idle backend connection is kept (under the web's 65 s)
  retryAfterSeconds: 1, // `Retry-After` on 503 when no backend is healthy
  shutdownGraceMs: 10_000, // 10 seconds for requests in flight after SIGTERM
  workers: 1, // balancer processes sharing the port
  workerExitLimit: 5, // with WORKERS > 1: more worker exits than this within workerExitWindowMs stop the balancer (a crash loop)
  workerExitWindowMs: 60_000, // 60 seconds, the window of workerExitLimit
  fastPath: true, // plain GET/HEAD heads skip Node's HTTP server (fast-path/)
  maxAccept: 64, // connections one process accepts per event-loop turn (HAProxy's tune.maxaccept, same default)
} as const;

export interface HealthConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

export interface UpstreamConfig {
  connections: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  keepAliveMs: number;
}

export interface HostRouteConfig {
  /** `api.app.dev` or `*.app.dev`, lower case. */
  pattern: string;
  /** IP literals are used as they are; names are resolved like BACKENDS_DNS. */
  targets: HostPort[];
}

export interface BalancerConfig {
  port: number;
  host: string | undefined;
  backends: HostPort[];
  hostRoutes: HostRouteConfig[];
  /** BACKENDS_DNS: a name whose addresses are the default group's backends, looked up every `dnsIntervalMs`. */
  dns: HostPort | undefined;
  dnsIntervalMs: number;
  /** DNS_SERVER: asked instead of the system resolver. */
  dnsServer: string | undefined;
  health: HealthConfig;
  upstream: UpstreamConfig;
  trustProxy: boolean;
  adminToken: string | undefined;
  retryAfterSeconds: number;
  shutdownGraceMs: number;
  workers: number;
  /** Connections one process accepts per event-loop turn: 1 + extra listening handles (accept-handles.ts). */
  maxAccept: number;
  /** Plain GET/HEAD heads skip Node's HTTP server (fast-path/fast-path.ts). */
  fastPath: boolean;
  limits: HttpServerLimits;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export function loadBalancerConfig(env: Env): BalancerConfig {
  const backends = readHostPortList(env, 'BACKENDS');
  const dns = readHostPort(env, 'BACKENDS_DNS');
  const hostRoutes = readHostRoutes(env, 'HOST_ROUTES');
  if (backends.length === 0 && dns === undefined && hostRoutes.length === 0) {
    throw new ConfigError('BACKENDS', env['BACKENDS'] ?? '', 'at least one host:port (or set BACKENDS_DNS=name:port or HOST_ROUTES)');
  }
  const healthPath = readString(env, 'HEALTH_PATH', BALANCER_DEFAULTS.healthPath);
  if (!healthPath.startsWith('/')) throw new ConfigError('HEALTH_PATH', healthPath, 'a path starting with /');
  const log = readLogOptions(env);
  const positive = { min: 1 };
  return {
    port: readPort(env, 'PORT', BALANCER_DEFAULTS.port),
    host: readHost(env, 'HOST'),
    backends,
    hostRoutes,
    dns,
    dnsIntervalMs: readInteger(env, 'DNS_INTERVAL_MS', BALANCER_DEFAULTS.dnsIntervalMs, { min: 1 }),
    dnsServer: readDnsServer(env, 'DNS_SERVER'),
    health: {
      path: healthPath,
      intervalMs: readInteger(env, 'HEALTH_INTERVAL_MS', BALANCER_DEFAULTS.healthIntervalMs, positive),
      timeoutMs: readInteger(env, 'HEALTH_TIMEOUT_MS', BALANCER_DEFAULTS.healthTimeoutMs, positive),
      rise: readInteger(env, 'HEALTH_RISE', BALANCER_DEFAULTS.healthRise, { min: 1, max: 100 }),
      fall: readInteger(env, 'HEALTH_FALL', BALANCER_DEFAULTS.healthFall, { min: 1, max: 100 }),
    },
    upstream: {
      connections: readInteger(env, 'CONNECTIONS_PER_BACKEND', BALANCER_DEFAULTS.connectionsPerBackend, { min: 1, max: 65_536 }),
      connectTimeoutMs: readInteger(env, 'UPSTREAM_CONNECT_TIMEOUT_MS', BALANCER_DEFAULTS.connectTimeoutMs, positive),
      headersTimeoutMs: readInteger(env, 'UPSTREAM_HEADERS_TIMEOUT_MS', BALANCER_DEFAULTS.headersTimeoutMs, positive),
      bodyTimeoutMs: readInteger(env, 'UPSTREAM_BODY_TIMEOUT_MS', BALANCER_DEFAULTS.bodyTimeoutMs, positive),
      keepAliveMs: readInteger(env, 'UPSTREAM_KEEP_ALIVE_MS', BALANCER_DEFAULTS.upstreamKeepAliveMs, positive),
    },
    trustProxy: readBoolean(env, 'TRUST_PROXY', false),
    adminToken: readOptionalString(env, 'ADMIN_TOKEN'),
    retryAfterSeconds: readInteger(env, 'RETRY_AFTER_SECONDS', BALANCER_DEFAULTS.retryAfterSeconds, { min: 0 }),
    shutdownGraceMs: readInteger(env, 'SHUTDOWN_GRACE_MS', BALANCER_DEFAULTS.shutdownGraceMs, { min: 0 }),
    workers: readInteger(env, 'WORKERS', BALANCER_DEFAULTS.workers, { min: 1, max: 64 }),
    maxAccept: readInteger(env, 'MAX_ACCEPT', BALANCER_DEFAULTS.maxAccept, { min: 1, max: 256 }),
    fastPath: readBoolean(env, 'FAST_PATH', BALANCER_DEFAULTS.fastPath),
    limits: readHttpServerLimits(env),
    logLevel: log.level,
    logFormat: log.format,
  };
}

const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** `api.app.dev=api:3000;*.app.dev=frontend:80,10.0.0.5:80`: host name (or `*.` wildcard) to backends. */
export function readHostRoutes(env: Env, name: string): HostRouteConfig[] {
  const value = readOptionalString(env, name);
  if (value === undefined) return [];
  const expected = 'host=name:port[,name:port] entries separated by ";" (host may start with "*.")';
  const seen = new Set<string>();
  return value
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [rawPattern, rawTargets, extra] = entry.split('=');
      const pattern = (rawPattern ?? '').trim().toLowerCase();
      if (extra !== undefined || !HOST_PATTERN.test(pattern) || seen.has(pattern)) throw new ConfigError(name, value, expected);
      seen.add(pattern);
      const targets = (rawTargets ?? '').split(',').map((target) => parseHostPort(target));
      if (targets.length === 0 || targets.some((target) => target === undefined)) throw new ConfigError(name, value, expected);
      return { pattern, targets: targets as HostPort[] };
    });
}

/** What /_lb/status shows of the configuration: everything but secrets. */
export function publicConfig(config: BalancerConfig): Record<string, unknown> {
  const { adminToken, ...rest } = config;
  return { ...rest, adminEnabled: adminToken !== undefined };
}

/** `DNS_SERVER`: an IP address, optionally with a port (`10.0.0.2`, `10.0.0.2:5353`, `[::1]:53`), as the resolver takes it. */
function readDnsServer(env: Env, name: string): string | undefined {
  const value = readOptionalString(env, name);
  if (value === undefined || isIP(value) !== 0) return value;
  const withPort = parseHostPort(value);
  if (withPort && isIP(withPort.host) !== 0) return value;
  throw new ConfigError(name, value, 'an IP address, optionally with a port (10.0.0.2, 10.0.0.2:5353, [::1]:53)');
}

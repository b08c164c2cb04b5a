// One set of backends a request can be sent to: its pool, its health checks and the
// discovery that fills it (static addresses and DNS names). The default group serves every
// host; HOST_ROUTES adds one group per routed host name.

import type { HostPort, Logger } from '@visit-counter/shared';
import { BackendPool } from './backend-pool.js';
import type { BalancerConfig } from './config.js';
import { createDnsDiscovery, type DnsDiscovery, type ResolveAddresses } from './discovery.js';
import { createHealthChecker, type HealthChecker } from './health-checker.js';

export interface UpstreamGroupSpec {
  /** `*` for the default group, else the host pattern it serves. */
  route: string;
  backends: readonly HostPort[];
  dns: readonly HostPort[];
}

export interface UpstreamGroup {
  route: string;
  pool: BackendPool;
  health: HealthChecker;
  discoveries: DnsDiscovery[];
  /** Resolves every DNS name of the group once. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export function createUpstreamGroup(
  spec: UpstreamGroupSpec,
  config: Pick<BalancerConfig, 'upstream' | 'health' | 'dnsIntervalMs'>,
  resolve: ResolveAddresses,
  logger: Logger,
): UpstreamGroup {
  const pool = new BackendPool(config.upstream);
  const health = createHealthChecker(pool, config.health, logger);
  pool.setAddresses('static', spec.backends);
  const discoveries = spec.dns.map((target) =>
    createDnsDiscovery(pool, { name: target.host, port: target.port, intervalMs: config.dnsIntervalMs, resolve }, logger),
  );
  let closing: Promise<void> | undefined;
  return {
    route: spec.route,
    pool,
    health,
    discoveries,
    async refresh() {
      await Promise.all(discoveries.map((discovery) => discovery.refresh()));
    },
    close() {
      closing ??= (async () => {
        for (const discovery of discoveries) discovery.close();
        await health.close();
        await pool.close();
      })();
      return closing;
    },
  };
}

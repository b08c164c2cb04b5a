// Discovery: which addresses the pool holds. Static addresses are set once; a DNS name is
// re-resolved at an interval, and the pool follows its A/AAAA records. A failed look-up
// keeps the last known pool and is logged once, not on every interval.

import { lookup } from 'node:dns/promises';
import { Resolver } from 'node:dns/promises';
import type { HostPort, Logger } from '@visit-counter/shared';
import type { BackendPool } from './backend-pool.js';

export type ResolveAddresses = (name: string) => Promise<string[]>;

/** The system resolver (getaddrinfo: /etc/hosts, search domains), as Docker and Kubernetes expect. */
export const systemResolve: ResolveAddresses = async (name) => {
  const records = await lookup(name, { all: true, verbatim: true });
  return records.map((record) => record.address);
};

/** A specific DNS server (`host` or `host:port`), asked for A and AAAA records. */
export function dnsServerResolve(server: string): ResolveAddresses {
  const resolver = new Resolver({ timeout: 1000, tries: 2 });
  resolver.setServers([server]);
  return async (name) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (found.length === 0) {
      const failure = v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : new Error('no records');
      throw failure;
    }
    return found;
  };
}

export interface DnsDiscoveryOptions {
  name: string;
  port: number;
  intervalMs: number;
  resolve: ResolveAddresses;
}

export interface DnsDiscovery {
  /** Resolves once now and updates the pool (tests use it to step time). */
  refresh(): Promise<void>;
  close(): void;
}

export function createDnsDiscovery(pool: BackendPool, options: DnsDiscoveryOptions, logger: Logger): DnsDiscovery {
  const source = `dns:${options.name}:${options.port}`;
  let failing = false;
  let closed = false;
  let last = '';

  const refresh = async (): Promise<void> => {
    let addresses: string[];
    try {
      addresses = await options.resolve(options.name);
    } catch (error) {
      if (!failing) {
        failing = true;
        logger.warn(
          { dnsName: options.name, err: (error as Error).message },
          'DNS look-up of %s failed; keeping the last known %d backend(s)',
          options.name,
          pool.list().length,
        );
      }
      return;
    }
    if (closed) return;
    if (failing) {
      failing = false;
      logger.info({ dnsName: options.name }, 'DNS look-up of %s works again', options.name);
    }
    const unique = [...new Set(addresses)].sort();
    const key = unique.join(',');
    if (key !== last) {
      last = key;
      logger.info({ dnsName: options.name, addresses: unique }, 'DNS %s resolves to %d address(es)', options.name, unique.length);
    }
    pool.setAddresses(
      source,
      unique.map((host): HostPort => ({ host, port: options.port })),
    );
  };

  const timer = setInterval(() => void refresh(), options.intervalMs);
  timer.unref();
  return {
    refresh,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}

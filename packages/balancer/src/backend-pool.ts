// The set of backends and the round-robin cursor over them. Discovery changes which
// addresses are in it; health checks change their health; requests only pick from it.

import { EventEmitter } from 'node:events';
import type { HostPort } from '@visit-counter/shared';
import { Backend, backendId } from './backend.js';
import type { UpstreamConfig } from './config.js';
import { pickRoundRobin } from './round-robin.js';

export interface BackendPoolEvents {
  added: [Backend];
  removed: [Backend];
}

export class BackendPool extends EventEmitter<BackendPoolEvents> {
  private backends: Backend[] = [];
  private cursor = 0;
  private readonly upstream: UpstreamConfig;

  constructor(upstream: UpstreamConfig) {
    super();
    this.upstream = upstream;
  }

  list(): readonly Backend[] {
    return this.backends;
  }

  get(id: string): Backend | undefined {
    return this.backends.find((backend) => backend.id === id);
  }

  /** Which sources (static addresses, each DNS name) list each backend id. */
  private readonly sources = new Map<string, Set<string>>();

  /**
   * Makes `source` list exactly these addresses. New ones join as `unknown` (no traffic until a
   * check passes). A backend drains and leaves once idle when no source lists it any more; one
   * that is listed again while draining is kept.
   */
  setAddresses(source: string, addresses: readonly HostPort[]): void {
    const wanted = new Map(addresses.map((address) => [backendId(address), address]));
    // A copy: an idle backend that leaves is spliced out of the list while we walk it.
    for (const backend of [...this.backends]) {
      const listedBy = this.sources.get(backend.id) as Set<string>;
      if (wanted.delete(backend.id)) listedBy.add(source);
      else listedBy.delete(source);
      if (listedBy.size > 0) {
        backend.removed = false;
      } else if (!backend.removed) {
        backend.removed = true;
        backend.since = new Date();
        this.releaseIfIdle(backend);
      }
    }
    for (const [id, address] of wanted) {
      const backend = new Backend(address, this.upstream);
      this.sources.set(id, new Set([source]));
      this.backends.push(backend);
      this.emit('added', backend);
    }
  }

  /** The next backend in round-robin order that may take a request, skipping `exclude`. */
  pick(exclude?: ReadonlySet<Backend>): Backend | undefined {
    const picked = pickRoundRobin(this.backends, this.cursor, (backend) => backend.eligible && !exclude?.has(backend));
    if (!picked) return undefined;
    this.cursor = picked.cursor;
    return this.backends[picked.index];
  }

  /** Called when a request on `backend` finished; a removed backend leaves once idle. */
  releaseIfIdle(backend: Backend): void {
    if (!backend.removed || backend.inFlight > 0) return;
    const index = this.backends.indexOf(backend);
    if (index === -1) return;
    this.backends.splice(index, 1);
    this.sources.delete(backend.id);
    if (this.cursor > index) this.cursor -= 1;
    this.emit('removed', backend);
    backend.pool.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    const all = this.backends;
    this.backends = [];
    await Promise.all(all.map((backend) => backend.pool.close().catch(() => backend.pool.destroy())));
  }
}

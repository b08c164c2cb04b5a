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

  /**
   * Makes the pool hold exactly these addresses (of one source): new ones join as `unknown`
   * (no traffic until a check passes); missing ones drain and leave once idle; one that
   * comes back while draining is kept.
   */
  setAddresses(source: string, addresses: readonly HostPort[]): void {
    const wanted = new Map(addresses.map((address) => [backendId(address), address]));
    for (const backend of this.backends) {
      if (this.sources.get(backend.id) !== source) continue;
      if (wanted.has(backend.id)) {
        backend.removed = false;
        wanted.delete(backend.id);
      } else if (!backend.removed) {
        backend.removed = true;
        backend.since = new Date();
        this.releaseIfIdle(backend);
      }
    }
    for (const [id, address] of wanted) {
      if (this.get(id)) continue; // another source already has it
      const backend = new Backend(address, this.upstream);
      this.sources.set(id, source);
      this.backends.push(backend);
      this.emit('added', backend);
    }
  }

  private readonly sources = new Map<string, string>();

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

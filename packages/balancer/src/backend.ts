// One backend: its address, its undici Pool, its health as the checks see it, whether an
// operator or discovery has drained it, and the figures /_lb/status reports.

import { Pool } from 'undici';
import type { HostPort, Logger } from '@visit-counter/shared';
import type { UpstreamConfig } from './config.js';
import { classifyUpstreamError, type UpstreamFailure } from './errors.js';

export type Health = 'unknown' | 'up' | 'down';
export type BackendState = Health | 'draining';

export interface CheckResult {
  ok: boolean;
  at: string;
  latencyMs: number;
  status?: number;
  error?: string;
  /** The backend answered that it is shutting down. */
  draining?: boolean;
}

export function backendId({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class Backend {
  readonly id: string;
  readonly address: HostPort;
  readonly origin: string;
  readonly pool: Pool;
  health: Health = 'unknown';
  /** Drained by an operator: takes no new requests until undrained. */
  drained = false;
  /** Gone from discovery: takes no new requests and leaves the pool once idle. */
  removed = false;
  since: Date = new Date();
  requests = 0;
  failures = 0;
  inFlight = 0;
  lastCheck: CheckResult | undefined;
  private passes = 0;
  private fails = 0;

  constructor(address: HostPort, upstream: UpstreamConfig) {
    this.address = address;
    this.id = backendId(address);
    this.origin = `http://${this.id}`;
    this.pool = new Pool(this.origin, {
      connections: upstream.connections,
      pipelining: 1,
      connect: { timeout: upstream.connectTimeoutMs },
      headersTimeout: upstream.headersTimeoutMs,
      bodyTimeout: upstream.bodyTimeoutMs,
      keepAliveTimeout: upstream.keepAliveMs,
      keepAliveMaxTimeout: upstream.keepAliveMs,
    });
  }

  get state(): BackendState {
    return this.drained || this.removed ? 'draining' : this.health;
  }

  /** May this backend take a new request? */
  get eligible(): boolean {
    return this.health === 'up' && !this.drained && !this.removed;
  }

  /** Applies one active check with rise/fall thresholds; returns true when the health changed. */
  recordCheck(result: CheckResult, rise: number, fall: number): boolean {
    this.lastCheck = result;
    if (result.draining) return this.recordDraining();
    if (result.ok) {
      this.fails = 0;
      this.passes += 1;
      // A new backend comes up on its first passed check; a down one needs `rise` in a row.
      if (this.health === 'unknown' || (this.health === 'down' && this.passes >= rise)) return this.setHealth('up');
    } else {
      this.passes = 0;
      this.fails += 1;
      if (this.health !== 'down' && this.fails >= fall) return this.setHealth('down');
    }
    return false;
  }

  /** A connection to the backend failed: it is down now, and must pass `rise` checks to return. */
  recordConnectFailure(): boolean {
    this.failures += 1;
    this.passes = 0;
    return this.setHealth('down');
  }

  /** The backend said it is shutting down: out of rotation now, back after `rise` passed checks. */
  recordDraining(): boolean {
    this.passes = 0;
    return this.setHealth('down');
  }

  private setHealth(health: Health): boolean {
    if (this.health === health) return false;
    this.health = health;
    this.since = new Date();
    return true;
  }

  setDrained(drained: boolean): void {
    if (this.drained === drained) return;
    this.drained = drained;
    this.since = new Date();
  }

  snapshot(): Record<string, unknown> {
    return {
      id: this.id,
      address: this.address.host,
      port: this.address.port,
      state: this.state,
      health: this.health,
      since: this.since.toISOString(),
      requests: this.requests,
      failures: this.failures,
      inFlight: this.inFlight,
      lastCheck: this.lastCheck ?? null,
    };
  }
}

/** A failed exchange, classified and held against its backend (every forwarding path uses this):
 * a connection that could not be made takes the backend down at once. */
export function recordUpstreamFailure(backend: Backend, error: unknown, logger: Logger): UpstreamFailure {
  const failure = classifyUpstreamError(backend.id, error);
  if (!failure.notSent) backend.failures += 1;
  else if (backend.recordConnectFailure()) {
    logger.warn({ backend: backend.id, code: failure.error.code, cause: failure.cause }, 'backend %s is down: connection failed (%s)', backend.id, failure.cause);
  }
  return failure;
}

/** The backend flagged itself as shutting down: out of rotation from now on. */
export function recordDraining(backend: Backend, logger: Logger): void {
  if (backend.recordDraining()) logger.info({ backend: backend.id }, 'backend %s is down: it is shutting down', backend.id);
}

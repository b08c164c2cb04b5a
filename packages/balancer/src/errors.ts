// The balancer's errors, each with a stable code, an HTTP status and one plain sentence,
// and the one function that maps low-level upstream failures to them.

import { VisitCounterError } from '@visit-counter/shared';

export class NoHealthyBackendError extends VisitCounterError {
  constructor() {
    super('LB_NO_HEALTHY_BACKEND', 503, 'No healthy backend is available to serve this request; please try again shortly.');
  }
}

export class NoRouteError extends VisitCounterError {
  constructor(host: string | undefined) {
    super('LB_NO_ROUTE', 404, `No backends are configured for the host ${JSON.stringify(host ?? '')}.`);
  }
}

export class UpstreamTimeoutError extends VisitCounterError {
  constructor(backend: string, cause: unknown) {
    super('LB_UPSTREAM_TIMEOUT', 504, `The backend ${backend} did not answer in time.`, { cause });
  }
}

export class UpstreamFailedError extends VisitCounterError {
  constructor(backend: string, cause: unknown) {
    super('LB_UPSTREAM_FAILED', 502, `The backend ${backend} failed while handling this request.`, { cause });
  }
}

export class UpstreamUnreachableError extends VisitCounterError {
  constructor(backend: string, cause: unknown) {
    super('LB_UPSTREAM_UNREACHABLE', 502, `The backend ${backend} could not be reached.`, { cause });
  }
}

/**
 * The client went away before the answer was complete: nobody is to blame but the network.
 * No one is left to show it to, so it has a code but no status; the access line marks it
 * `clientGone`.
 */
export class ClientGoneError extends Error {
  readonly code = 'LB_CLIENT_GONE';
}

/** The MAX_ACCEPT handles could not be made (accept-handles.ts): logged, and the balancer accepts one per turn. */
export class AcceptHandlesError extends Error {
  readonly code = 'LB_ACCEPT_HANDLES';
}

export class AdminUnauthorizedError extends VisitCounterError {
  constructor() {
    super('LB_ADMIN_UNAUTHORIZED', 401, 'This admin action needs a valid token in the Authorization header (Bearer).');
  }
}

export class AdminDisabledError extends VisitCounterError {
  constructor() {
    super('LB_ADMIN_DISABLED', 403, 'Admin actions are disabled because no ADMIN_TOKEN is configured.');
  }
}

export class AdminNotFoundError extends VisitCounterError {
  constructor(path: string) {
    super('LB_ADMIN_NOT_FOUND', 404, `There is no balancer endpoint at ${JSON.stringify(path)}; try /_lb/status.`);
  }
}

export class UnknownBackendError extends VisitCounterError {
  constructor(id: string) {
    super('LB_UNKNOWN_BACKEND', 404, `There is no backend ${JSON.stringify(id)} in the pool.`);
  }
}

export class AdminMethodError extends VisitCounterError {
  readonly allow: string;

  constructor(method: string, path: string, allow: string) {
    super('LB_METHOD_NOT_ALLOWED', 405, `The method ${method} is not allowed on ${path}; use ${allow}.`);
    this.allow = allow;
  }
}

/** A worker of a WORKERS > 1 balancer died before it listened: the whole balancer stops (cluster-primary.ts). */
export class WorkerStartError extends VisitCounterError {
  constructor(worker: number, code: number | null, signal: string | null) {
    const how = signal === null ? `with code ${code}` : `on ${signal}`;
    super('LB_WORKER_START', 500, `Balancer worker ${worker} exited ${how} before it listened, so the balancer stops.`);
  }
}

/** Workers that keep dying are not started again forever: the whole balancer stops (cluster-primary.ts). */
export class WorkerCrashLoopError extends VisitCounterError {
  constructor(exits: number, windowMs: number) {
    super('LB_WORKER_CRASH_LOOP', 500, `Balancer workers exited ${exits} times within ${windowMs / 1000} s, so the balancer stops instead of starting them again.`);
  }
}

// Failures that happen before a single byte of the request left: safe to try another backend.
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export interface UpstreamFailure {
  /** True when the request cannot have reached the backend, so another backend may take it. */
  notSent: boolean;
  error: VisitCounterError;
  /** The low-level code that decided it (`ECONNREFUSED`, `UND_ERR_CONNECT_TIMEOUT`, ...), '' when none. */
  cause: string;
}

function codeOf(error: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = error;
  // undici wraps the socket error; the first code found on the cause chain decides.
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return '';
}

export function classifyUpstreamError(backend: string, error: unknown): UpstreamFailure {
  const code = codeOf(error);
  if (NOT_SENT.has(code)) return { notSent: true, error: new UpstreamUnreachableError(backend, error), cause: code };
  if (TIMEOUTS.has(code)) return { notSent: false, error: new UpstreamTimeoutError(backend, error), cause: code };
  return { notSent: false, error: new UpstreamFailedError(backend, error), cause: code };
}

/** An Upgrade request whose body is chunked: its end cannot be found without decoding it (upgrade.ts). */
export class UpgradeBodyError extends VisitCounterError {
  constructor() {
    super('LB_UPGRADE_BODY', 501, 'An Upgrade request with a chunked body (Transfer-Encoding) cannot be forwarded; send the body with a Content-Length.');
  }
}

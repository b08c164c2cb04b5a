// The web replica's errors, each with a stable code, an HTTP status and one plain sentence.

import { VisitCounterError } from '@visit-counter/shared';

export class CounterUnavailableError extends VisitCounterError {
  constructor(cause?: unknown) {
    super('WEB_COUNTER_UNAVAILABLE', 503, 'The visit counter is unavailable because Redis cannot be reached; please try again shortly.', { cause });
  }
}

export class CounterTimeoutError extends VisitCounterError {
  constructor(timeoutMs: number) {
    super('WEB_COUNTER_TIMEOUT', 503, `The visit counter did not answer within ${timeoutMs} ms; please try again.`);
  }
}

/**
 * The connection to Redis closed while the increment was on its way, and Redis did not come
 * back within REDIS_RECONCILE_MS to tell whether it counted the visit (a reply lost in a Redis
 * shutdown); or this replica's shutdown grace ended first. We cannot know, and say so.
 */
export class CounterOutcomeUnknownError extends VisitCounterError {
  constructor(cause?: unknown, what = 'The connection to Redis closed') {
    super('WEB_COUNTER_OUTCOME_UNKNOWN', 503, `${what} while this visit was being counted, so it may or may not have been counted; please try again.`, { cause });
  }
}

/** The same, for a visit still waiting for Redis when the shutdown grace period ends. */
export class ShutdownOutcomeUnknownError extends CounterOutcomeUnknownError {
  constructor() {
    super(undefined, 'This replica shut down');
  }
}

/**
 * The visit could no longer reach its visitor before it was sent to Redis: a client that gave
 * up (a balancer's timeout, curl -m) while this replica was stalled, or a connection that can
 * no longer carry the answer. Not counted, and nobody is left to read the answer; the access
 * log shows 499, as nginx logs a client that closed.
 */
export class VisitorLeftError extends VisitCounterError {
  constructor() {
    super('WEB_VISITOR_LEFT', 499, 'The visitor closed the connection before the visit was counted, so it was not counted.');
  }
}

export class NotFoundError extends VisitCounterError {
  constructor(path: string) {
    super('WEB_NOT_FOUND', 404, `There is nothing at ${JSON.stringify(path)}; try / or /host or /date.`);
  }
}

export class MethodNotAllowedError extends VisitCounterError {
  readonly allow: string;

  constructor(method: string, path: string, allow: readonly string[]) {
    super('WEB_METHOD_NOT_ALLOWED', 405, `The method ${method} is not allowed on ${path}; use ${allow.join(' or ')}.`);
    this.allow = allow.join(', ');
  }
}

export class ShuttingDownError extends VisitCounterError {
  constructor() {
    super('WEB_SHUTTING_DOWN', 503, 'This replica is shutting down; other replicas take new requests.');
  }
}

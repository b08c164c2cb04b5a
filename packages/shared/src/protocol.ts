// What the web replicas and the balancer agree on beyond plain HTTP.

/**
 * A replica that is shutting down sets this header on every response (its readiness check
 * included) while it still serves. The balancer takes it out of rotation at once, before the
 * replica closes any connection, so no request meets a closing keep-alive socket.
 * (Envoy's `x-envoy-immediate-health-check-fail` works the same way.)
 */
export const DRAINING_HEADER = 'x-backend-draining';

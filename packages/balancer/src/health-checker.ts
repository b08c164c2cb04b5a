// Active health checks: every interval, `GET` the health path on every backend through a
// dispatcher of its own (so checks never queue behind traffic), and apply rise/fall.
// A backend that joins the pool is checked at once. Checks only change the pool.

import { Agent, request } from 'undici';
import { DRAINING_HEADER, type Logger } from '@visit-counter/shared';
import type { Backend, CheckResult } from './backend.js';
import type { BackendPool } from './backend-pool.js';
import type { HealthConfig } from './config.js';

export interface HealthChecker {
  /** Checks every backend now; resolves when all checks are done (tests use it to step time). */
  checkAll(): Promise<void>;
  close(): Promise<void>;
}

export function createHealthChecker(pool: BackendPool, health: HealthConfig, logger: Logger): HealthChecker {
  const agent = new Agent({ connections: 1, pipelining: 1, connect: { timeout: health.timeoutMs }, keepAliveTimeout: health.intervalMs * 2 });
  const running = new Map<Backend, Promise<void>>();
  let closed = false;

  const probe = async (backend: Backend): Promise<CheckResult> => {
    const started = performance.now();
    const at = new Date().toISOString();
    const latency = (): number => Math.round((performance.now() - started) * 100) / 100;
    try {
      const response = await request(backend.origin + health.path, {
        dispatcher: agent,
        method: 'GET',
        headers: { 'user-agent': 'visit-counter-balancer/health-check' },
        signal: AbortSignal.timeout(health.timeoutMs),
        headersTimeout: health.timeoutMs,
        bodyTimeout: health.timeoutMs,
      });
      await response.body.dump();
      const draining = response.headers[DRAINING_HEADER] !== undefined;
      const ok = !draining && response.statusCode >= 200 && response.statusCode < 400;
      return { ok, at, latencyMs: latency(), status: response.statusCode, ...(draining ? { draining, error: 'shutting down' } : {}) };
    } catch (error) {
      const name = (error as Error).name === 'TimeoutError' ? `timed out after ${health.timeoutMs} ms` : ((error as { code?: string }).code ?? (error as Error).message);
      return { ok: false, at, latencyMs: latency(), error: name };
    }
  };

  const check = (backend: Backend): Promise<void> => {
    const pending = running.get(backend);
    if (pending) return pending;
    const done = probe(backend).then((result) => {
      running.delete(backend);
      if (closed) return;
      const before = backend.state;
      if (backend.recordCheck(result, health.rise, health.fall)) {
        const level = backend.health === 'up' ? 'info' : 'warn';
        logger[level](
          { backend: backend.id, from: before, to: backend.state, check: result },
          'backend %s is %s',
          backend.id,
          backend.health,
        );
      }
    });
    running.set(backend, done);
    return done;
  };

  const checkAll = async (): Promise<void> => {
    await Promise.all(pool.list().map(check));
  };

  const onAdded = (backend: Backend): void => void check(backend);
  pool.on('added', onAdded);
  for (const backend of pool.list()) void check(backend);
  const timer = setInterval(() => void checkAll(), health.intervalMs);
  timer.unref();

  return {
    checkAll,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      pool.off('added', onAdded);
      await Promise.allSettled(running.values());
      await agent.close().catch(() => undefined);
    },
  };
}

// The balancer's own endpoints under /_lb/: never forwarded. `GET /_lb/status` shows the
// pool; `POST /_lb/backends/{id}/drain|undrain` change it and need the admin token.

import { timingSafeEqual, createHash } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VisitCounterError, send, sendError, type Logger } from '@visit-counter/shared';
import type { Backend } from './backend.js';
import type { BackendPool } from './backend-pool.js';
import {
  AdminDisabledError,
  AdminMethodError,
  AdminNotFoundError,
  AdminUnauthorizedError,
  UnknownBackendError,
} from './errors.js';
import type { ClusterLink } from './cluster-worker.js';
import { stateTotals, type Stats } from './stats.js';
import { mergeStatuses } from './status-merge.js';

export const ADMIN_PREFIX = '/_lb';

export interface AdminOptions {
  /** Every group of backends: `*` is the default, others are HOST_ROUTES patterns. */
  groups: ReadonlyArray<{ route: string; pool: BackendPool }>;
  stats: Stats;
  adminToken: string | undefined;
  config: Record<string, unknown>;
  logger: Logger;
  /** With several worker processes: gathers every worker's view and spreads drains. */
  cluster?: ClusterLink;
}

export function isAdminPath(url: string | undefined): boolean {
  return url !== undefined && (url === ADMIN_PREFIX || url.startsWith(ADMIN_PREFIX + '/') || url.startsWith(ADMIN_PREFIX + '?'));
}

/** A backend id from the path; a malformed escape names no backend (and must not throw out of the handler). */
function decodeId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new UnknownBackendError(segment);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** This process's memory in bytes: resident, JavaScript heap in use, and the heap's limit. */
function processMemory(): { rssBytes: number; heapUsedBytes: number; heapLimitBytes: number } {
  const heap = getHeapStatistics();
  return { rssBytes: process.memoryUsage.rss(), heapUsedBytes: heap.used_heap_size, heapLimitBytes: heap.heap_size_limit };
}

function json(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  send(req, res, status, { contentType: 'application/json; charset=utf-8', body: JSON.stringify(body, null, 2) + '\n' }, { 'cache-control': 'no-store' });
}

export function createAdmin({ groups, stats, adminToken, config, logger, cluster }: AdminOptions) {
  const expected = adminToken === undefined ? undefined : digest(adminToken);

  const authorize = (req: IncomingMessage): void => {
    if (expected === undefined) throw new AdminDisabledError();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1] as string), expected)) throw new AdminUnauthorizedError();
  };

  const everyBackend = (): Array<{ route: string; backend: Backend }> =>
    groups.flatMap(({ route, pool }) => pool.list().map((backend) => ({ route, backend })));

  const status = (): Record<string, unknown> => {
    const listed = everyBackend();
    const backends = listed.map(({ backend }) => backend);
    return {
      uptimeSeconds: Math.round((Date.now() - stats.startedAt.getTime()) / 1000),
      startedAt: stats.startedAt.toISOString(),
      acceptPerTurn: stats.acceptPerTurn,
      portSharing: stats.portSharing,
      node: process.versions.node,
      memory: processMemory(),
      totals: {
        ...stateTotals(backends.map((backend) => backend.state)),
        requests: stats.requests,
        fastPath: stats.fastPath,
        retries: stats.retries,
        inFlight: backends.reduce((sum, backend) => sum + backend.inFlight, 0),
        responses: stats.responses,
        errors: stats.errors,
      },
      backends: listed.map(({ route, backend }) => ({ ...backend.snapshot(), route })),
      routes: groups.map(({ route, pool }) => ({
        route,
        backends: pool.list().length,
        up: pool.list().filter((backend) => backend.state === 'up').length,
      })),
      config,
    };
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '').split('?')[0] as string;
    try {
      if (path === `${ADMIN_PREFIX}/status` || path === `${ADMIN_PREFIX}/healthz`) {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new AdminMethodError(req.method ?? '', path, 'GET');
        if (path.endsWith('/healthz')) json(req, res, 200, { status: 'ok' });
        else if (cluster) void cluster.gather().then(({ statuses, primary }) => json(req, res, 200, mergeStatuses(statuses, primary)));
        else json(req, res, 200, status());
        return;
      }
      const action = /^\/_lb\/backends\/([^/]+)\/(drain|undrain)$/.exec(path);
      if (!action) throw new AdminNotFoundError(path);
      if (req.method !== 'POST') throw new AdminMethodError(req.method ?? '', path, 'POST');
      authorize(req);
      const id = decodeId(action[1] as string);
      const matching = everyBackend().filter(({ backend }) => backend.id === id);
      const backend = matching[0]?.backend;
      if (!backend) throw new UnknownBackendError(id);
      for (const match of matching) match.backend.setDrained(action[2] === 'drain');
      cluster?.broadcast(id, action[2] === 'drain');
      logger.info({ backend: id, action: action[2] }, 'backend %s %sed by an operator', id, action[2]);
      json(req, res, 200, backend.snapshot());
    } catch (error) {
      if (!(error instanceof VisitCounterError)) throw error;
      const headers: Record<string, string> = {};
      if (error instanceof AdminMethodError) headers['allow'] = error.allow;
      if (error instanceof AdminUnauthorizedError) headers['www-authenticate'] = 'Bearer realm="visit-counter balancer"';
      sendError(req, res, error.status, error.code, error.message, headers);
    }
  };

  return { handle, status };
}

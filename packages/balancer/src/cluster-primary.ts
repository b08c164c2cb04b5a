// The primary of a WORKERS > 1 balancer (node:cluster; each worker is cluster-worker.ts). It
// only supervises and relays: it forks the workers, replaces one that dies after it has served,
// gathers /_lb/status, spreads and remembers operator drains, and stops every worker on SIGTERM.
// As with nginx and HAProxy, a worker that dies before it listens (a port in use, an address
// this machine lacks) stops the whole balancer with exit 1, and so do workers that keep dying
// (crash-loop.ts): forking them again forever would look alive to a supervisor while serving
// nothing. The reason is logged once, as the last line, after every worker is gone.

import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '@visit-counter/shared';
import { GATHER_TIMEOUT_MS, reviveError, type Message, type PrimaryView, type Status } from './cluster-messages.js';
import { createCrashLoopGuard, type CrashLoopLimit } from './crash-loop.js';
import { WorkerCrashLoopError, WorkerStartError } from './errors.js';
import type { PortSharing } from './port-sharing.js';

export interface PrimaryOptions {
  workers: number;
  sharing: PortSharing;
  logger: Logger;
  crashLoop: CrashLoopLimit;
}

export function runPrimary({ workers: count, sharing, logger, crashLoop }: PrimaryOptions): void {
  const startedAt = new Date();
  /** Workers that said they listen: the ones the status page asks, and whose death is survivable. */
  const listening = new Set<Worker>();
  /** Backends an operator drained: a worker started later is told before it listens. */
  const drained = new Set<string>();
  const guard = createCrashLoopGuard(crashLoop);
  let alive = 0;
  let stopping = false;
  /** Why the balancer stops with exit 1; logged last, once every worker is gone. */
  let fatal: Error | undefined;
  let nextQuery = 0;
  /** Status queries under way, by id: each takes the workers' replies to it. */
  const gathering = new Map<number, (worker: Worker, status: Status) => void>();
  // Every worker accepts itself (with its MAX_ACCEPT handles), from a socket of its own with
  // 'reuseport', else from the one they share. Under node's round-robin the primary would hand
  // each connection over and wait for the worker's reply, so a busy worker would take one new
  // connection per event-loop turn, as without MAX_ACCEPT.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const fork = (): void => {
    const worker = cluster.fork();
    alive += 1;
    // A message to a worker that has just died fails (EPIPE); unhandled, that error would end
    // the primary. The worker's 'exit' follows and is dealt with there.
    worker.on('error', (error) => logger.debug({ err: error, worker: worker.id }, 'could not reach balancer worker %d', worker.id));
  };
  const everyWorker = (): Worker[] => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);

  /** A worker that did not stop cleanly (it logged why, or a signal ended it): the exit code says so. */
  let stoppedUncleanly = false;
  const finish = (): void => {
    if (fatal) logger.fatal({ err: fatal }, fatal.message);
    process.exit(fatal || stoppedUncleanly ? 1 : 0);
  };
  const stopAll = (): void => {
    for (const worker of everyWorker()) worker.process.kill('SIGTERM');
    if (alive === 0) finish();
  };
  /** The balancer stops with exit 1 for `error`: the first reason, even one that comes during a stop. */
  const fail = (error: Error): void => {
    fatal ??= error;
    if (stopping) return;
    stopping = true;
    stopAll();
  };

  const primaryView = (): PrimaryView => ({
    pid: process.pid,
    rssBytes: process.memoryUsage.rss(),
    startedAt: startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
  });

  const gather = (from: Worker, id: number): void => {
    // The asking worker serves, even if its 'listening' is still on its way.
    const asked = new Set([...listening, from]);
    const queryId = nextQuery++;
    const statuses: Status[] = [];
    const done = (): void => {
      clearTimeout(timer);
      gathering.delete(queryId);
      from.send({ type: 'lb:gathered', id, statuses, primary: primaryView() } satisfies Message);
    };
    const timer = setTimeout(done, GATHER_TIMEOUT_MS);
    gathering.set(queryId, (worker, status) => {
      statuses.push({ ...status, worker: worker.id });
      if (statuses.length === asked.size) done();
    });
    for (const worker of asked) worker.send({ type: 'lb:query', id: queryId } satisfies Message);
  };

  cluster.on('message', (from: Worker, message: Message) => {
    switch (message.type) {
      case 'lb:reply':
        gathering.get(message.id)?.(from, message.status);
        return;
      case 'lb:drain':
        if (message.drained) drained.add(message.backend);
        else drained.delete(message.backend);
        for (const worker of everyWorker()) worker.send(message);
        return;
      case 'lb:ask-drains':
        from.send({ type: 'lb:drains', drained: [...drained] } satisfies Message);
        return;
      case 'lb:listening':
        // A message can be read after its sender's 'exit': a dead worker is asked nothing.
        if (!from.isDead()) listening.add(from);
        return;
      case 'lb:cannot-listen':
        // Every worker would fail the same way: one sentence for the whole balancer, even
        // when a stop has begun meanwhile (a balancer that never listened does not exit 0).
        fail(reviveError(message.error));
        return;
      case 'lb:gather':
        gather(from, message.id);
        return;
      default:
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    alive -= 1;
    const listened = listening.delete(worker);
    if (stopping) {
      // After a fatal error the failing worker's own exit is that error, already to be told.
      if (code !== 0 && !fatal) {
        stoppedUncleanly = true;
        logger.error({ worker: worker.id, code, signal }, 'balancer worker %d did not stop cleanly', worker.id);
      }
      if (alive === 0) finish();
      return;
    }
    if (!listened) fail(new WorkerStartError(worker.id, code, signal));
    else if (guard.exited(performance.now())) fail(new WorkerCrashLoopError(guard.recent, crashLoop.windowMs));
    else {
      logger.error({ worker: worker.id, code, signal }, 'balancer worker %d exited; starting another', worker.id);
      fork();
    }
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // As one process does (shared/process.ts): Node's default on a second signal would end
      // the primary at once, and node:cluster would end every worker with it, mid-answer.
      logger.warn({ signal }, 'already shutting down: requests in flight still finish (SIGKILL stops at once)');
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping %d workers', count);
    stopAll();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  for (let i = 0; i < count; i++) fork();
  logger.info({ workers: count, portSharing: sharing }, 'balancer primary started %d workers', count);
}

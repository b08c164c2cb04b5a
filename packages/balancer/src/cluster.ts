// Several balancer processes sharing one port (node:cluster). The primary only supervises
// and relays: a worker asked for /_lb/status gathers every worker's view through it, and an
// operator's drain reaches every worker. Each worker runs its own pool and health checks.

import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '@visit-counter/shared';
import type { PortSharing } from './port-sharing.js';

type Message =
  | { type: 'lb:gather'; id: number }
  | { type: 'lb:query'; id: number }
  | { type: 'lb:reply'; id: number; status: Record<string, unknown> }
  | { type: 'lb:gathered'; id: number; statuses: Array<Record<string, unknown>>; primaryRssBytes: number }
  | { type: 'lb:drain'; backend: string; drained: boolean };

const GATHER_TIMEOUT_MS = 1_000; // a worker that does not answer in 1 s is left out of the page

/** Every worker's status, and the primary's resident memory (absent when the primary did not answer). */
export interface Gathered {
  statuses: Array<Record<string, unknown>>;
  primaryRssBytes?: number;
}

export interface ClusterLink {
  gather(): Promise<Gathered>;
  broadcast(backend: string, drained: boolean): void;
}

export interface WorkerHooks {
  status(): Record<string, unknown>;
  setDrained(backend: string, drained: boolean): void;
}

/** Inside a worker: answers the primary's queries and asks it to gather or broadcast. */
export function connectWorker(hooks: WorkerHooks): ClusterLink {
  let nextId = 0;
  const waiting = new Map<number, (gathered: Gathered) => void>();
  process.on('message', (message: Message) => {
    if (message.type === 'lb:query') process.send?.({ type: 'lb:reply', id: message.id, status: hooks.status() } satisfies Message);
    else if (message.type === 'lb:gathered') {
      waiting.get(message.id)?.({ statuses: message.statuses, primaryRssBytes: message.primaryRssBytes });
      waiting.delete(message.id);
    } else if (message.type === 'lb:drain') hooks.setDrained(message.backend, message.drained);
  });
  return {
    gather() {
      const id = nextId++;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve({ statuses: [hooks.status()] });
        }, GATHER_TIMEOUT_MS * 2);
        timer.unref();
        waiting.set(id, (gathered) => {
          clearTimeout(timer);
          resolve(gathered);
        });
        process.send?.({ type: 'lb:gather', id } satisfies Message);
      });
    },
    broadcast(backend, drained) {
      process.send?.({ type: 'lb:drain', backend, drained } satisfies Message);
    },
  };
}

/** The primary: forks `count` workers, restarts one that dies, relays messages, stops all on SIGTERM. */
export function runPrimary(count: number, sharing: PortSharing, logger: Logger): void {
  let stopping = false;
  let nextQuery = 0;
  // Every worker accepts itself (with its MAX_ACCEPT handles), from a socket of its own with
  // 'reuseport', else from the one they share. Under node's round-robin the primary would hand
  // each connection over and wait for the worker's reply, so a busy worker would take one new
  // connection per event-loop turn, as without MAX_ACCEPT.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const fork = (): Worker => cluster.fork();

  cluster.on('message', (from: Worker, message: Message) => {
    if (message.type === 'lb:drain') {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.send(message);
      return;
    }
    if (message.type !== 'lb:gather') return;
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
    const queryId = nextQuery++;
    const statuses: Array<Record<string, unknown>> = [];
    const done = (): void => {
      clearTimeout(timer);
      cluster.off('message', collect);
      from.send({ type: 'lb:gathered', id: message.id, statuses, primaryRssBytes: process.memoryUsage.rss() } satisfies Message);
    };
    const collect = (worker: Worker, reply: Message): void => {
      if (reply.type !== 'lb:reply' || reply.id !== queryId) return;
      statuses.push({ ...reply.status, worker: worker.id });
      if (statuses.length === workers.length) done();
    };
    const timer = setTimeout(done, GATHER_TIMEOUT_MS);
    cluster.on('message', collect);
    for (const worker of workers) worker.send({ type: 'lb:query', id: queryId } satisfies Message);
  });

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ worker: worker.id, code, signal }, 'balancer worker %d exited; starting another', worker.id);
    fork();
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping %d workers', count);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  for (let i = 0; i < count; i++) fork();
  logger.info({ workers: count, portSharing: sharing }, 'balancer primary started %d workers', count);
}

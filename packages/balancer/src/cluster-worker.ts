// A worker's side of a WORKERS > 1 balancer (the primary is cluster-primary.ts). A worker asked
// for /_lb/status gathers every worker's view through the primary, and an operator's drain goes
// through the primary to every worker; the primary remembers it for the workers it starts later.
// The primary also learns from here when this worker has its port, or why it could not get it.

import type { Logger, Service } from '@visit-counter/shared';
import { GATHER_TIMEOUT_MS, type Gathered, type Message, type SerializedError, type Status } from './cluster-messages.js';

export type { Gathered };

const PRIMARY_SILENT_MS = 5_000; // a worker that could not listen waits this long (5 s) for the primary to stop it

export interface ClusterLink {
  gather(): Promise<Gathered>;
  broadcast(backend: string, drained: boolean): void;
  /** The backends an operator has drained, as the primary remembers them; a new worker honours them before it listens. */
  operatorDrains(): Promise<string[]>;
  /** Tells the primary this worker has its port: from now on its death is survivable, and it shows on the status page. */
  listening(): void;
}

export interface WorkerLink extends ClusterLink {
  /**
   * The service as the primary supervises it: a listen failure is the primary's to report, once
   * for the whole balancer, not once per worker.
   */
  supervise(service: Service): Service;
}

export interface WorkerHooks {
  status(): Status;
  setDrained(backend: string, drained: boolean): void;
}

const send = (message: Message): void => {
  process.send?.(message);
};

function serialize(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { type: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    type: error.constructor.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  };
}

/** Inside a worker: answers the primary's queries and asks it to gather, broadcast and recall drains. */
export function connectWorker(hooks: WorkerHooks, logger: Logger): WorkerLink {
  let nextId = 0;
  const waiting = new Map<number, (gathered: Gathered) => void>();
  const askingDrains: Array<(drained: string[]) => void> = [];
  process.on('message', (message: Message) => {
    if (message.type === 'lb:query') send({ type: 'lb:reply', id: message.id, status: hooks.status() });
    else if (message.type === 'lb:gathered') {
      waiting.get(message.id)?.({ statuses: message.statuses, primary: message.primary });
      waiting.delete(message.id);
    } else if (message.type === 'lb:drain') hooks.setDrained(message.backend, message.drained);
    else if (message.type === 'lb:drains') for (const resolve of askingDrains.splice(0)) resolve(message.drained);
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
        send({ type: 'lb:gather', id });
      });
    },
    broadcast(backend, drained) {
      send({ type: 'lb:drain', backend, drained });
    },
    operatorDrains() {
      return new Promise((resolve) => {
        const answer = (drained: string[]): void => {
          clearTimeout(timer);
          resolve(drained);
        };
        const timer = setTimeout(() => {
          askingDrains.splice(askingDrains.indexOf(answer), 1);
          logger.warn('the primary did not say within %d ms which backends an operator drained: this worker starts without them', GATHER_TIMEOUT_MS * 2);
          resolve([]);
        }, GATHER_TIMEOUT_MS * 2);
        timer.unref();
        askingDrains.push(answer);
        send({ type: 'lb:ask-drains' });
      });
    },
    listening() {
      send({ type: 'lb:listening' });
    },
    supervise(service) {
      return {
        listen: () =>
          service.listen().catch(
            (error: unknown) =>
              new Promise<never>((_, reject) => {
                send({ type: 'lb:cannot-listen', error: serialize(error) });
                // The primary stops every worker, this one too; should it stay silent, this
                // worker prints the reason itself and exits 1 (serveUntilSignal).
                setTimeout(() => reject(error), PRIMARY_SILENT_MS);
              }),
          ),
        close: () => service.close(),
      };
    },
  };
}

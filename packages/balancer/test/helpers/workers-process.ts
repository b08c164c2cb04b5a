// A WORKERS=2 balancer run as `npm start` runs it (main.ts as its own process) on a free port
// of 127.0.0.1, for tests of what the primary does with its workers: which workers serve (from
// the merged /_lb/status, with each worker's pid), and what the process prints and exits with.

import type { TestContext } from 'node:test';
import { freePort, spawnMain, type MainProcess } from '@visit-counter/shared/test-helpers';
import { fileURLToPath } from 'node:url';
import { send } from './http-client.js';

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface MergedStatus {
  workers: number;
  pid?: number;
  perWorker: Array<{ worker: number; pid: number; uptimeSeconds: number }>;
  totals: Record<string, number>;
  routes: Array<{ route: string; backends: number; up: number }>;
  backends: Array<{ id: string; route: string; state: string; requests: number; perWorker: Array<{ worker: number; state: string; requests: number }> }>;
}

export interface WorkersBalancer {
  main: MainProcess;
  port: number;
  /** GET /_lb/status, parsed; rejects when no answer comes within 2 s (a worker just killed may hold the connection). */
  status(): Promise<MergedStatus>;
}

const STATUS_TIMEOUT_MS = 2_000;

export async function startWorkersBalancer(t: TestContext, env: Record<string, string>): Promise<WorkersBalancer> {
  const port = await freePort();
  const main = spawnMain(t, PACKAGE_DIR, { PORT: String(port), HOST: '127.0.0.1', WORKERS: '2', LOG_FORMAT: 'json', ...env });
  const status = (): Promise<MergedStatus> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no /_lb/status answer within ${STATUS_TIMEOUT_MS} ms`)), STATUS_TIMEOUT_MS);
      timer.unref();
      send(port, '/_lb/status').then(
        (reply) => {
          clearTimeout(timer);
          resolve(JSON.parse(reply.body) as MergedStatus);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error as Error);
        },
      );
    });
  return { main, port, status };
}

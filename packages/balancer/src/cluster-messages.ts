// What the primary and the workers of a WORKERS > 1 balancer say to each other over node:cluster's
// IPC channel. The primary supervises and relays; each worker runs its own pool and checks.

export type Status = Record<string, unknown>;

/** The primary's own part of the status page: the balancer as a whole is this process. */
export interface PrimaryView {
  pid: number;
  rssBytes: number;
  startedAt: string;
  uptimeSeconds: number;
}

/** Every worker's status, and the primary's view (absent when the primary did not answer). */
export interface Gathered {
  statuses: Status[];
  primary?: PrimaryView;
}

/** An error as it crosses the channel (an Error object does not): what pino's serializer logs. */
export interface SerializedError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Back into an Error for the log (a plain object would be logged as of type Object); `name` keeps the worker's class. */
export function reviveError(error: SerializedError): Error {
  return Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code }, { name: error.type, stack: error.stack });
}

export type Message =
  // worker -> primary
  | { type: 'lb:gather'; id: number }
  | { type: 'lb:reply'; id: number; status: Status }
  | { type: 'lb:drain'; backend: string; drained: boolean }
  | { type: 'lb:ask-drains' }
  | { type: 'lb:listening' }
  | { type: 'lb:cannot-listen'; error: SerializedError }
  // primary -> worker
  | { type: 'lb:query'; id: number }
  | { type: 'lb:gathered'; id: number; statuses: Status[]; primary: PrimaryView }
  | { type: 'lb:drains'; drained: string[] };
// 'lb:drain' also goes primary -> every worker: the relayed operator action.

export const GATHER_TIMEOUT_MS = 1_000; // a worker that does not answer in 1 s is left out of the page

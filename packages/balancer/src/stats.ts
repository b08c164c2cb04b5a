// Balancer-wide figures for /_lb/status.

import type { PortSharing } from './port-sharing.js';

export interface Stats {
  startedAt: Date;
  requests: number;
  /** Of `requests`, those answered by the fast path (fast-path/fast-path.ts). */
  fastPath: number;
  retries: number;
  responses: Record<string, number>;
  errors: Record<string, number>;
  /** Connections this process accepts per event-loop turn at most: its listening handles (accept-handles.ts). */
  acceptPerTurn: number;
  /** How the WORKERS processes share the port (port-sharing.ts). */
  portSharing: PortSharing;
}

export function createStats(portSharing: PortSharing = 'single'): Stats {
  return { startedAt: new Date(), requests: 0, fastPath: 0, retries: 0, responses: {}, errors: {}, acceptPerTurn: 1, portSharing };
}

/** An error answer's code, in `errors`: every path counts its failures there. */
export function countError(stats: Stats, code: string): void {
  stats.errors[code] = (stats.errors[code] ?? 0) + 1;
}

export function countResponse(stats: Stats, status: number): void {
  const bucket = `${Math.floor(status / 100)}xx`;
  stats.responses[bucket] = (stats.responses[bucket] ?? 0) + 1;
}

/** How many backends are in each state, as /_lb/status shows it. */
export function stateTotals(states: readonly string[]): { backends: number; up: number; down: number; draining: number; unknown: number } {
  const count = (state: string): number => states.filter((each) => each === state).length;
  return { backends: states.length, up: count('up'), down: count('down'), draining: count('draining'), unknown: count('unknown') };
}

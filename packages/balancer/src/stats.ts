// Balancer-wide figures for /_lb/status.

export interface Stats {
  startedAt: Date;
  requests: number;
  retries: number;
  responses: Record<string, number>;
  errors: Record<string, number>;
}

export function createStats(): Stats {
  return { startedAt: new Date(), requests: 0, retries: 0, responses: {}, errors: {} };
}

export function countResponse(stats: Stats, status: number): void {
  const bucket = `${Math.floor(status / 100)}xx`;
  stats.responses[bucket] = (stats.responses[bucket] ?? 0) + 1;
}

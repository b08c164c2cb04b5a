// HAProxy as the balancer, for the reference rows: a generated configuration, round robin over
// the same backends, one thread (one core, like one Node balancer process), keep-alive on both
// sides with `http-reuse always`, no logging.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type Managed } from '../lib/processes.js';

export function haproxyVersion(): string | undefined {
  const probe = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (probe.error) return undefined;
  return /version (\S+)/.exec(probe.stdout)?.[1] ?? 'unknown';
}

export function haproxyConfig(port: number, backends: readonly string[], threads: number): string {
  return `global
  nbthread ${threads}
  maxconn 8000

defaults
  mode http
  option http-keep-alive
  option forwardfor
  http-reuse always
  timeout connect 1s
  timeout client 65s
  timeout server 30s
  timeout http-keep-alive 65s

frontend bench
  bind 127.0.0.1:${port}
  default_backend backends

backend backends
  balance roundrobin
${backends.map((backend, i) => `  server b${i + 1} ${backend}`).join('\n')}
`;
}

export function startHaproxy(dir: string, port: number, backends: readonly string[], threads = 1): Managed {
  mkdirSync(dir, { recursive: true });
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(port, backends, threads));
  // -db: stay in the foreground; -W is not wanted (no master process to outlive us).
  return startProcess(`haproxy (${threads} thread${threads === 1 ? '' : 's'})`, 'haproxy', ['-db', '-f', cfg], { manyFiles: true });
}

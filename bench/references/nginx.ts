// nginx as the balancer, for the reference rows: a generated configuration in a temporary
// directory (nothing written outside it), round robin over the same backends with upstream
// keep-alive, one worker process (one core, like one Node balancer process), no access log.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type Managed } from '../lib/processes.js';

export function nginxVersion(): string | undefined {
  const probe = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  if (probe.error) return undefined;
  return /nginx\/(\S+)/.exec(probe.stderr)?.[1] ?? 'unknown';
}

export function nginxConfig(dir: string, port: number, backends: readonly string[], workers: number): string {
  const temp = (name: string): string => join(dir, name);
  // nginx started by root drops its workers to `nobody`, which could not write the temp dirs.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes ${workers};
daemon off;
pid ${temp('nginx.pid')};
error_log ${temp('error.log')} warn;
events {
  worker_connections 8192;
}
http {
  access_log off;
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  keepalive_timeout 65s;
  # nginx closes a client connection after 1000 requests by default; the Node servers never do.
  keepalive_requests 1000000;
  upstream backends {
${backends.map((backend) => `    server ${backend};`).join('\n')}
    keepalive 128;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port} reuseport;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`;
}

export function startNginx(dir: string, port: number, backends: readonly string[], workers = 1): Managed {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, port, backends, workers));
  return startProcess(`nginx (${workers} worker${workers === 1 ? '' : 's'})`, 'nginx', ['-p', dir, '-c', conf], { manyFiles: true });
}

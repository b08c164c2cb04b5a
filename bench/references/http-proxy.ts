// The baseline Node proxy: round robin over the backends with http-proxy 1.18.1 and one
// keep-alive agent, and nothing else (no health checks, no retries, no logging).
// Usage: node --import tsx bench/references/http-proxy.ts PORT host:port,host:port,...

import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';

const port = Number(process.argv[2]);
const targets = (process.argv[3] ?? '').split(',').map((address) => `http://${address}`);
const agent = new Agent({ keepAlive: true, maxSockets: 128 });
const proxy = httpProxy.createProxyServer({ agent, xfwd: true });
let next = 0;

proxy.on('error', (_error, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502);
  res.end();
});

createServer((req, res) => {
  const target = targets[next++ % targets.length] as string;
  proxy.web(req, res, { target });
})
  .listen(port, '127.0.0.1')
  .keepAliveTimeout = 65_000;

process.once('SIGTERM', () => process.exit(0));

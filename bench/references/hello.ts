// A Node hello-world server: the reference for what one Node process can answer, and the
// backend of the balancer-bound scenario (a fixed body that costs nearly nothing). It echoes
// `x-request-id` like the web replica does, so the benchmark's visit script can read it.
// Usage: node --import tsx bench/references/hello.ts PORT

import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const body = Buffer.from('Hello, world!\n');

createServer((req, res) => {
  const id = req.headers['x-request-id'];
  res.writeHead(200, typeof id === 'string' ? { 'content-type': 'text/plain', 'content-length': body.length, 'x-request-id': id } : { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
})
  .listen(port, '127.0.0.1')
  .keepAliveTimeout = 65_000;

process.once('SIGTERM', () => process.exit(0));

// The best plain Node proxy we know how to write, as a reference row: Node's HTTP server in
// front, one undici Pool per backend behind, round robin, and `pool.dispatch` with a bare
// handler (the cheapest undici API measured here: `request` and `stream` cost more). Nothing
// else: no health checks, no retries, no request ids, no logging, no fast path. Bodiless
// requests only (`body: null`), as the benchmark sends; a minimal hop-by-hop list.
// Usage: node --import tsx bench/references/undici-proxy.ts PORT host:port,host:port,...

import { createServer } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

const port = Number(process.argv[2]);
const pools = (process.argv[3] ?? '').split(',').map((address) => new Pool(`http://${address}`, { connections: 128 }));
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);
let next = 0;

createServer((req, res) => {
  const pool = pools[next++ % pools.length] as Pool;
  const headers = req.rawHeaders.filter((_, i, raw) => !HOP_BY_HOP.has((raw[i - (i % 2)] as string).toLowerCase()));
  headers.push('x-forwarded-for', req.socket.remoteAddress ?? '');
  const handler: Dispatcher.DispatchHandler = {
    onConnect() {},
    onHeaders(status, raw) {
      const out: string[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const name = (raw[i] as Buffer).toString('latin1');
        if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, (raw[i + 1] as Buffer).toString('latin1'));
      }
      res.writeHead(status, out);
      return true;
    },
    onData(chunk) {
      res.write(chunk);
      return true; // no backpressure: the bodies here are a few bytes
    },
    onComplete() {
      res.end();
    },
    onError() {
      if (res.headersSent) res.destroy(); // a cut answer must not look complete
      else res.writeHead(502).end();
    },
  };
  pool.dispatch({ path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers, body: null }, handler);
})
  .listen(port, '127.0.0.1')
  .keepAliveTimeout = 65_000;

process.once('SIGTERM', () => process.exit(0));

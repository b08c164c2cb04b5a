// A controllable backend for the balancer's tests, in the spirit of undici's TestServer: a
// real node:http server on 127.0.0.1 that records what it receives and, on chosen requests,
// answers, hangs until released, or destroys the connection. It can be stopped and started
// again on the same port. Health checks (`GET /readyz`) are answered apart and not recorded.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TestContext } from 'node:test';

export type Behaviour =
  /** 200 with a text body naming the backend. */
  | 'ok'
  /** Reads the request and never answers, until `releaseHeld()`. */
  | 'hang'
  /** Reads the request, then destroys the connection without a byte of response. */
  | 'reset';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  /** The local address the request arrived on (tells 127.0.0.2 from 127.0.0.1). */
  localAddress: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FakeBackendOptions {
  name: string;
  host?: string;
  port?: number;
  /** Replaces the `ok` behaviour's answer. */
  handler?: Handler;
}

export class FakeBackend {
  readonly name: string;
  readonly host: string;
  port: number;
  /** Requests other than health checks, in arrival order. */
  readonly requests: SeenRequest[] = [];
  healthChecks = 0;
  /** What `GET /readyz` answers: 200 when true, 503 when false. */
  healthy = true;
  /** Behaviours for the next requests, consumed one per request; then `ok`. */
  readonly plan: Behaviour[] = [];
  handler: Handler | undefined;
  private server: Server | undefined;
  private readonly held: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();

  constructor(options: FakeBackendOptions) {
    this.name = options.name;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.handler = options.handler;
  }

  /** `host:port`, as the balancer names the backend. */
  get id(): string {
    return `${this.host}:${this.port}`;
  }

  /** Requests that are hanging right now. */
  get heldCount(): number {
    return this.held.length;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  async start(): Promise<void> {
    if (this.server?.listening) return;
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (typeof address === 'object' && address) this.port = address.port;
    this.server = server;
  }

  /** Stops listening and cuts every connection (including upgraded ones): the backend is gone. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.held.splice(0);
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    server.closeAllConnections();
    await closed;
  }

  /** Answers every hanging request with 200. */
  releaseHeld(): void {
    for (const release of this.held.splice(0)) release();
  }

  /** Registers on the server after start(); used for upgrade handlers. */
  on(event: 'upgrade', listener: (req: IncomingMessage, socket: Socket, head: Buffer) => void): void {
    if (!this.server) throw new Error('start() the backend first');
    this.server.on(event, listener);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/readyz') {
      this.healthChecks += 1;
      res.writeHead(this.healthy ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(this.healthy ? 'ready\n' : 'not ready\n');
      return;
    }
    this.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      localAddress: req.socket.localAddress ?? '',
    });
    const behaviour = this.plan.shift() ?? 'ok';
    if (behaviour === 'reset') {
      req.resume();
      req.once('end', () => req.socket.destroy());
      return;
    }
    const answer = (): void => {
      if (this.handler) {
        this.handler(req, res);
        return;
      }
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-served-by': this.name });
      res.end(`${this.name} ${req.method} ${req.url}\n`);
    };
    if (behaviour === 'hang') {
      req.resume();
      this.held.push(answer);
      return;
    }
    answer();
  }
}

/** Starts backends named `names` on 127.0.0.1, port 0; stopped after the test. */
export async function startBackends(t: TestContext, names: readonly string[]): Promise<FakeBackend[]> {
  const backends = names.map((name) => new FakeBackend({ name }));
  t.after(() => Promise.all(backends.map((backend) => backend.stop())));
  await Promise.all(backends.map((backend) => backend.start()));
  return backends;
}

export async function startBackend(t: TestContext, name: string, options: Omit<FakeBackendOptions, 'name'> = {}): Promise<FakeBackend> {
  const backend = new FakeBackend({ name, ...options });
  t.after(() => backend.stop());
  await backend.start();
  return backend;
}

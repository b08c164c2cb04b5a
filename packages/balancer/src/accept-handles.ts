// More connections accepted per event-loop turn. Since libuv 1.45 (Node 20), a listening
// handle accepts one connection per turn and waits for the next poll; when a turn is busy
// forwarding hundreds of requests, a burst of new connections (wrk -c1000) waits in the
// kernel's queue for seconds. HAProxy's `tune.maxaccept` and nginx's `multi_accept` exist for
// the same reason.
//
// Each extra handle here is another descriptor of the same listening socket, polled on its own,
// so one turn accepts up to one connection per handle. Node has no call that duplicates a
// descriptor, but a handle sent to another process over IPC arrives as a new descriptor: a
// short-lived child process receives the listening socket and sends each copy straight back.
// It receives the bare handle, not a net.Server, so it never listens and never accepts a
// connection of ours.

import { spawn } from 'node:child_process';
import { Server, type Socket } from 'node:net';

/** The child: every handle it is sent goes straight back, then its own copy is closed. */
const ECHO = "process.on('message', (m, handle) => process.send(m, handle, () => handle.close()));";

export interface AcceptHandles {
  /** How many extra handles accept for the server. */
  readonly count: number;
  /** Stops the extra handles accepting; resolves once every connection they accepted has closed. */
  close(): Promise<void>;
}

export class AcceptHandlesError extends Error {
  readonly code = 'LB_ACCEPT_HANDLES';
}

export interface AcceptHandlesOptions {
  /** The listen backlog `server` was given: listening again on a copy sets it for the socket. */
  backlog: number;
  timeoutMs?: number;
}

/**
 * Adds `extra` listening handles to `server`, which must be listening on a socket of its own
 * (not a cluster worker under round-robin). Connections they accept are emitted as the
 * server's own `connection` events. Rejects, leaving no handle behind, when the child process
 * cannot be started or does not answer within `timeoutMs`.
 */
export function addAcceptHandles(server: Server, extra: number, { backlog, timeoutMs = 5_000 }: AcceptHandlesOptions): Promise<AcceptHandles> {
  if (extra <= 0) return Promise.resolve({ count: 0, close: () => Promise.resolve() });
  const handle = (server as unknown as { _handle?: unknown })._handle;
  return new Promise((resolve, reject) => {
    const copies: Server[] = [];
    // An empty environment: NODE_OPTIONS (an --inspect port, an --import loader) is not for it.
    const child = spawn(process.execPath, ['-e', ECHO], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env: {} });
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.removeAllListeners();
      if (child.connected) child.disconnect();
      child.kill();
      if (error) {
        for (const copy of copies) copy.close();
        reject(error);
        return;
      }
      resolve({ count: copies.length, close: () => closeAll(copies) });
    };
    const timer = setTimeout(() => finish(new AcceptHandlesError(`the helper process did not return the listening socket within ${timeoutMs} ms`)), timeoutMs);
    child.once('error', (error) => finish(new AcceptHandlesError(`the helper process could not start: ${error.message}`)));
    child.once('exit', (code, signal) => finish(new AcceptHandlesError(`the helper process exited early (${signal ?? code})`)));
    child.on('message', (_message, received) => {
      if (received === undefined) return;
      const copy = Object.assign(new Server(), acceptOptionsOf(server));
      copy.on('connection', (socket: Socket) => server.emit('connection', socket));
      copy.on('error', (error) => server.emit('error', error));
      copy.listen(received, backlog);
      copies.push(copy);
      if (copies.length === extra) finish();
    });
    try {
      for (let i = 0; i < extra; i++) child.send('accept-handle', handle as Parameters<typeof child.send>[1]);
    } catch (error) {
      finish(new AcceptHandlesError(`the listening socket cannot be sent: ${(error as Error).message}`));
    }
  });
}

/** What net.Server applies to each socket it accepts: an HTTP server's are not net's defaults (allowHalfOpen, noDelay). */
const ACCEPT_OPTIONS = ['allowHalfOpen', 'pauseOnConnect', 'noDelay', 'keepAlive', 'keepAliveInitialDelay', 'highWaterMark', 'maxConnections'] as const;

function acceptOptionsOf(server: Server): Record<string, unknown> {
  const source = server as unknown as Record<string, unknown>;
  return Object.fromEntries(ACCEPT_OPTIONS.map((name) => [name, source[name]]));
}

function closeAll(copies: readonly Server[]): Promise<void> {
  return Promise.all(copies.map((copy) => new Promise<void>((resolve) => (copy.listening ? copy.close(() => resolve()) : resolve())))).then(() => undefined);
}

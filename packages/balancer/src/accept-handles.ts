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
import { Server, type ServerOpts, type Socket } from 'node:net';
import { LISTEN_BACKLOG } from '@visit-counter/shared';
import { AcceptHandlesError } from './errors.js';

/** The child process that duplicates the socket, and how long it may take. */
export interface AcceptHelper {
  /** Run with `node -e`: sends each handle it receives straight back. */
  script: string;
  /** How long it may take to start and send every copy back, in ms. */
  timeoutMs: number;
}

/** Every handle the child is sent goes straight back, then its own copy is closed. */
const ECHO_HELPER: AcceptHelper = {
  script: "process.on('message', (m, handle) => process.send(m, handle, () => handle.close()));",
  timeoutMs: 5_000,
};

export interface AcceptHandles {
  /** Stops the extra handles accepting; resolves once every connection they accepted has closed. */
  close(): Promise<void>;
}

/**
 * Adds `extra` listening handles to `server`, which must be listening on a socket of its own
 * (not a cluster worker under round-robin). Connections they accept are emitted as the
 * server's own `connection` events. Rejects, leaving no handle behind, when the child process
 * cannot be started or does not send every copy back in time. `helper` is for the tests, which
 * make it fail.
 */
export function addAcceptHandles(server: Server, extra: number, helper: AcceptHelper = ECHO_HELPER): Promise<AcceptHandles> {
  if (extra <= 0) return Promise.resolve({ close: () => Promise.resolve() });
  const handle = (server as unknown as { _handle?: unknown })._handle;
  const options = acceptOptionsOf(server);
  return new Promise((resolve, reject) => {
    const copies: Server[] = [];
    // An empty environment: NODE_OPTIONS (an --inspect port, an --import loader) is not for it.
    const child = spawn(process.execPath, ['-e', helper.script], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env: {} });
    const onMessage = (_message: unknown, received: unknown): void => {
      if (received === undefined) return;
      const copy = new Server(options);
      copy.on('connection', (socket: Socket) => server.emit('connection', socket));
      copy.on('error', (error) => server.emit('error', error));
      copy.listen(received, LISTEN_BACKLOG); // listening again sets the shared socket's backlog: keep the services' one
      copies.push(copy);
      if (copies.length === extra) finish();
    };
    const onError = (error: Error): void => finish(new AcceptHandlesError(`the helper process could not start: ${error.message}`));
    const onExit = (code: number | null, signal: string | null): void => finish(new AcceptHandlesError(`the helper process exited early (${signal ?? code})`));
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      // Only our listeners go (child_process keeps its own for the channel). A copy still on its
      // way back when this gave up is closed as it arrives, not left accepting.
      child.off('message', onMessage).off('error', onError).off('exit', onExit);
      child.on('message', (_message, late) => (late as { close?: () => void } | undefined)?.close?.());
      child.on('error', () => undefined);
      if (child.connected) child.disconnect();
      child.kill();
      if (error) {
        for (const copy of copies) copy.close();
        reject(error);
        return;
      }
      resolve({ close: () => closeAll(copies) });
    };
    const timer = setTimeout(() => finish(new AcceptHandlesError(`the helper process did not return the listening socket within ${helper.timeoutMs} ms`)), helper.timeoutMs);
    child.on('message', onMessage).once('error', onError).once('exit', onExit);
    try {
      for (let i = 0; i < extra; i++) child.send('accept-handle', handle as Parameters<typeof child.send>[1]);
    } catch (error) {
      finish(new AcceptHandlesError(`the listening socket cannot be sent: ${(error as Error).message}`));
    }
  });
}

/**
 * What net.Server applies to each socket it accepts: an HTTP server's are not net's defaults
 * (allowHalfOpen, noDelay). Not `maxConnections`: each copy would count on its own.
 */
const ACCEPT_OPTIONS = ['allowHalfOpen', 'noDelay', 'keepAlive', 'keepAliveInitialDelay', 'highWaterMark'] as const;

function acceptOptionsOf(server: Server): ServerOpts {
  const source = server as unknown as Record<string, unknown>;
  return Object.fromEntries(ACCEPT_OPTIONS.map((name) => [name, source[name]])) as ServerOpts;
}

function closeAll(copies: readonly Server[]): Promise<void> {
  return Promise.all(copies.map((copy) => new Promise<void>((resolve) => (copy.listening ? copy.close(() => resolve()) : resolve())))).then(() => undefined);
}

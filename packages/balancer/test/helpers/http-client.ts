// A small HTTP client for the tests: node:http with its own keep-alive agent (destroyed
// after the test), answers read whole; and a raw-socket exchange for requests no HTTP
// client would send (garbage, huge or half-written heads, upgrades).

import { Agent, type OutgoingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { httpRequest, type Reply, type RequestOptions } from '@visit-counter/shared/test-helpers';

export type { Reply, RequestOptions };

export interface Client {
  readonly agent: Agent;
  request(path: string, options?: RequestOptions): Promise<Reply>;
  get(path: string, headers?: OutgoingHttpHeaders): Promise<Reply>;
}

export const send = httpRequest;

export function createClient(t: TestContext, port: number): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  t.after(() => agent.destroy());
  return {
    agent,
    request: (path, options = {}) => send(port, path, { ...options, agent }),
    get: (path, headers = {}) => send(port, path, { headers, agent }),
  };
}

/** Opens a raw connection to 127.0.0.1:port; destroyed after the test. */
export function openSocket(t: TestContext, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    t.after(() => socket.destroy());
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Everything the peer sends until it closes the connection (or `timeoutMs` passes: rejects). */
export function readUntilClose(socket: Socket, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the connection stayed open for ${timeoutMs} ms; received so far: ${JSON.stringify(text)}`));
    }, timeoutMs);
    timer.unref();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

/** Reads from `socket` until the text received so far contains `marker`. */
export function readUntil(socket: Socket, marker: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer | string): void => {
      text += chunk.toString();
      if (text.includes(marker)) {
        done();
        resolve(text);
      }
    };
    const onClose = (): void => {
      done();
      reject(new Error(`the connection closed before ${JSON.stringify(marker)} arrived; received: ${JSON.stringify(text)}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${JSON.stringify(marker)} did not arrive within ${timeoutMs} ms; received: ${JSON.stringify(text)}`));
    }, timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** Sends raw bytes on a new connection and returns all the server answers before it closes. */
export async function rawExchange(t: TestContext, port: number, bytes: string | Buffer, timeoutMs = 10_000): Promise<string> {
  const socket = await openSocket(t, port);
  const answer = readUntilClose(socket, timeoutMs);
  socket.write(bytes);
  return answer;
}

export interface RawResponse {
  /** The head as received, for headers that appear more than once. */
  raw: string;
  statusLine: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses one HTTP/1.1 response as a raw string (tests only: no chunked decoding). */
export function parseRawResponse(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`not an HTTP response: ${JSON.stringify(text)}`);
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { raw: text.slice(0, end + 4), statusLine, status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) };
}

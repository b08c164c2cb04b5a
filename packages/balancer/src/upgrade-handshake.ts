// One Upgrade handshake with a backend, over a connection already made: the request head goes
// out, and the answer decides. A 101 hands over the connection for a tunnel; any other final
// answer is an ordinary response (with its body) and no tunnel. Node's HTTP client parses the
// answer, so a declined upgrade's body is framed as the backend framed it.

import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export type HandshakeAnswer =
  /** The backend switched protocols: the connection given is now the tunnel, `head` its first bytes. */
  | { switched: true; response: IncomingMessage; head: Buffer }
  /** The backend answered as to a plain request: `response` streams that answer's body. */
  | { switched: false; response: IncomingMessage };

export interface Handshake {
  /** Takes the request body, if any; `end()` it when the body is done. */
  request: ClientRequest;
  /** Settles once, on the first final answer head, or with the error that came first. */
  answer: Promise<HandshakeAnswer>;
}

export interface HandshakeRequest {
  method: string;
  url: string;
  /** The head's headers, `[name, value, ...]`, `Upgrade` and `Connection` included. */
  headers: string[];
}

/**
 * Sends the handshake on `upstream` and waits at most `headersTimeoutMs` for the answer head;
 * after that the answer rejects with code `UND_ERR_HEADERS_TIMEOUT` (undici's, so it is
 * classified as the other paths' timeouts are) and the connection is closed.
 */
export function sendHandshake(upstream: Socket, { method, url, headers }: HandshakeRequest, headersTimeoutMs: number): Handshake {
  const outgoing = request({ method, path: url, headers, setHost: false, createConnection: () => upstream });
  const answer = new Promise<HandshakeAnswer>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(Object.assign(new Error(`the backend sent no answer head within ${headersTimeoutMs} ms`), { code: 'UND_ERR_HEADERS_TIMEOUT' }));
      outgoing.destroy();
    }, headersTimeoutMs);
    outgoing.once('upgrade', (response: IncomingMessage, _socket: Socket, head: Buffer) => {
      clearTimeout(timer);
      resolve({ switched: true, response, head });
    });
    outgoing.once('response', (response: IncomingMessage) => {
      clearTimeout(timer);
      if (response.statusCode === 101) {
        // A 101 without Upgrade and Connection lines: no protocol named to switch to.
        reject(new Error('the backend answered 101 without naming a protocol'));
        outgoing.destroy();
      } else resolve({ switched: false, response });
    });
    outgoing.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  return { request: outgoing, answer };
}

// A declined upgrade: the backend answered with something other than 101, so that answer is
// the answer to this request, and the client's connection ends after it. Its head is cleaned
// as every forwarded answer's is (forward-headers.ts); the body goes as Node's client decoded
// it, with its length when the backend gave one, else delimited by the connection's end.

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { downstreamRawHeaders } from './forward-headers.js';
import { CLOSE_LINES, headerLines, statusLine } from './raw-answer.js';

/**
 * Writes `response` to `client` and ends the connection; `extra` headers are added, as on the
 * other paths. Returns whether the backend flagged itself as draining. With no byte of body
 * for `bodyTimeoutMs`, both connections are cut.
 */
export function sendDeclined(client: Socket, response: IncomingMessage, extra: readonly string[], bodyTimeoutMs: number): { draining: boolean } {
  const raw = response.rawHeaders.map((text) => Buffer.from(text, 'latin1'));
  const { headers, draining } = downstreamRawHeaders(raw, extra, response.statusCode ?? 502);
  client.write(statusLine(response.statusCode ?? 502) + headerLines(headers) + CLOSE_LINES, 'latin1');
  response.socket.setTimeout(bodyTimeoutMs, () => {
    response.destroy();
    client.destroy();
  });
  response.on('error', () => client.destroy());
  response.pipe(client);
  return { draining };
}

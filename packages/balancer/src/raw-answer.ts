// HTTP/1.1 answers as text, for the places that write to a client's socket without Node's
// server: the fast path's forwarded answers (raw-sink.ts), and the error answers the fast path
// and the upgrade path (upgrade.ts) give themselves. Heads are latin1, as on the wire.

import { STATUS_CODES } from 'node:http';
import { negotiateFormat, renderMessage, type VisitCounterError } from '@visit-counter/shared';

/** A head's last lines when the connection ends after this answer. */
export const CLOSE_LINES = 'connection: close\r\n\r\n';

/** A head's last lines when the connection stays open; made once per server, not per answer. */
export function keepAliveLines(seconds: number): string {
  return `connection: keep-alive\r\nkeep-alive: timeout=${seconds}\r\n\r\n`;
}

export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
}

/** Header lines of a head from a `[name, value, ...]` list. */
export function headerLines(list: readonly string[]): string {
  let lines = '';
  for (let i = 0; i < list.length; i += 2) lines += `${list[i] as string}: ${list[i + 1] as string}\r\n`;
  return lines;
}

/**
 * A whole error answer, in the format the client asked for, as the full path's sendError makes
 * it. `headOnly`: the request was a HEAD. `lastLines`: CLOSE_LINES or keepAliveLines(...).
 */
export function rawErrorResponse(
  error: VisitCounterError,
  accept: string | undefined,
  extra: readonly string[],
  headOnly: boolean,
  lastLines: string,
): Buffer {
  const rendered = renderMessage(error.message, negotiateFormat(accept), { code: error.code }, 'error');
  const body = Buffer.from(rendered.body);
  let head = statusLine(error.status) + headerLines(extra);
  head += `cache-control: no-store\r\ncontent-type: ${rendered.contentType}\r\ncontent-length: ${body.length}\r\ndate: ${new Date().toUTCString()}\r\n`;
  head += lastLines;
  const headBytes = Buffer.from(head, 'latin1');
  return headOnly ? headBytes : Buffer.concat([headBytes, body]);
}

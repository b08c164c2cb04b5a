// The fast path's request parser: it accepts only the plainest request, one whole
// `GET`/`HEAD` head in one read, HTTP/1.1, no body, one Host, strict characters, and says
// "not mine" to everything else. Whatever it refuses goes to Node's HTTP server with the
// same bytes, which answers it in full (400, 431, bodies, upgrades, pipelining, ...), so
// this parser never has to produce an error: being strict is what keeps it safe.

import { isValidHost } from '@visit-counter/shared';
import { isAdminPath } from '../admin.js';

export interface FastRequest {
  method: 'GET' | 'HEAD';
  /** The origin-form target, as sent. */
  target: string;
  /** The header lines as a flat `[name, value, ...]` list, names as sent, values trimmed. */
  rawHeaders: string[];
  host: string;
  accept: string | undefined;
  /** The client sent `Connection: close`. */
  close: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TARGET = /^\/[\x21-\x7e]*$/;
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;
const END = '\r\n\r\n';

// Headers that mean a body, a protocol switch or a handshake: all the full server's job.
const NOT_FAST = new Set(['content-length', 'transfer-encoding', 'upgrade', 'expect', 'http2-settings']);

/**
 * The request in `chunk` when it is exactly one complete head the fast path may forward;
 * undefined for anything else (partial, more than one request, a body, odd characters, ...).
 */
export function parseFastRequest(chunk: Buffer, maxHeaderSize: number): FastRequest | undefined {
  if (chunk.length > maxHeaderSize || chunk.length < 18) return undefined;
  const text = chunk.toString('latin1');
  if (text.indexOf(END) !== text.length - END.length) return undefined;
  const lineEnd = text.indexOf('\r\n');
  const requestLine = text.slice(0, lineEnd);
  const firstSpace = requestLine.indexOf(' ');
  const lastSpace = requestLine.lastIndexOf(' ');
  if (firstSpace <= 0 || lastSpace === firstSpace) return undefined;
  const method = requestLine.slice(0, firstSpace);
  const target = requestLine.slice(firstSpace + 1, lastSpace);
  if ((method !== 'GET' && method !== 'HEAD') || requestLine.slice(lastSpace + 1) !== 'HTTP/1.1') return undefined;
  if (!TARGET.test(target) || isAdminPath(target)) return undefined;

  const rawHeaders: string[] = [];
  let host: string | undefined;
  let accept: string | undefined;
  let close = false;
  let start = lineEnd + 2;
  const headEnd = text.length - 2; // the final empty line
  while (start < headEnd) {
    const end = text.indexOf('\r\n', start);
    const colon = text.indexOf(':', start);
    if (colon <= start || colon > end) return undefined;
    const name = text.slice(start, colon);
    const value = text.slice(colon + 1, end).replace(/^[ \t]+|[ \t]+$/g, '');
    start = end + 2;
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) return undefined;
    const lower = name.toLowerCase();
    if (NOT_FAST.has(lower)) return undefined;
    if (lower === 'host') {
      if (host !== undefined || value === '' || !isValidHost(value)) return undefined;
      host = value;
    } else if (lower === 'accept') {
      accept = accept === undefined ? value : `${accept}, ${value}`;
    } else if (lower === 'connection') {
      // Only the two plain values: a Connection header naming other headers is the full path's.
      for (const token of value.toLowerCase().split(',')) {
        const option = token.trim();
        if (option === 'close') close = true;
        else if (option !== 'keep-alive') return undefined;
      }
    }
    rawHeaders.push(name, value);
  }
  if (host === undefined) return undefined;
  return { method, target, rawHeaders, host, accept, close };
}

// The checks HTTP/1.1 asks of every server before a handler sees a request (RFC 9112 3.2,
// 6.1): exactly one Host header, a target that is a path, no transfer coding but chunked. An absolute-form target
// (`GET http://example.com/path`, what a client configured for a proxy sends) is accepted
// as the path it names, with its authority as the Host, as nginx does.

import type { IncomingMessage } from 'node:http';

export interface RequestProblem {
  status: number;
  code: string;
  sentence: string;
}

const MISSING_HOST: RequestProblem = { status: 400, code: 'HTTP_MISSING_HOST', sentence: 'The request has no Host header, which HTTP/1.1 requires.' };
const DUPLICATE_HOST: RequestProblem = { status: 400, code: 'HTTP_DUPLICATE_HOST', sentence: 'The request has more than one Host header.' };
const BAD_TARGET: RequestProblem = { status: 400, code: 'HTTP_BAD_TARGET', sentence: 'The request target must be a path starting with "/" or an http:// URL.' };
// Node's parser takes `gzip, chunked` apart by its last coding; the gzip would reach the handler undone.
const UNSUPPORTED_CODING: RequestProblem = { status: 501, code: 'HTTP_UNSUPPORTED_CODING', sentence: 'The only transfer coding this server accepts is chunked.' };

// No userinfo (`user:pass@host`): RFC 9110 4.2.4 has it treated as an error.
const ABSOLUTE_FORM = /^https?:\/\/([^/?#\s@]+)((?:[/?][^#\s]*)?)$/i;

/** How many Host headers the request carries, and whether a Transfer-Encoding says more than `chunked`. */
function scan(raw: readonly string[]): { hosts: number; otherCoding: boolean } {
  let hosts = 0;
  let otherCoding = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts += 1;
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding' && (raw[i + 1] as string).trim().toLowerCase() !== 'chunked') otherCoding = true;
  }
  return { hosts, otherCoding };
}

/** Sets the Host header to `authority`, in the parsed headers and in the raw list forwarding reads. */
function replaceHost(req: IncomingMessage, authority: string): void {
  const raw = req.rawHeaders;
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() !== 'host') kept.push(raw[i] as string, raw[i + 1] as string);
  req.rawHeaders = ['Host', authority, ...kept];
  req.headers.host = authority;
}

/**
 * What is wrong with the request for any handler, or undefined. An absolute-form target is
 * rewritten in place to its path, and its authority becomes the Host.
 */
export function checkRequest(req: IncomingMessage): RequestProblem | undefined {
  const url = req.url ?? '';
  const { hosts, otherCoding } = scan(req.rawHeaders);
  if (hosts > 1) return DUPLICATE_HOST;
  if (otherCoding) return UNSUPPORTED_CODING;
  if (url.startsWith('/')) return hosts === 0 && req.httpVersion === '1.1' ? MISSING_HOST : undefined;
  const absolute = ABSOLUTE_FORM.exec(url);
  if (!absolute) return BAD_TARGET;
  const [, authority = '', path = ''] = absolute;
  req.url = path.startsWith('/') ? path : `/${path}`;
  replaceHost(req, authority);
  return undefined;
}

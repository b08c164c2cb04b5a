// The checks HTTP/1.1 asks of every server before a handler sees a request (RFC 9112 2.3,
// 3.2, 6.1): HTTP/1.0 or 1.1, exactly one Host header, and a valid one, a target that is a
// path, no transfer coding but chunked, and none at all in HTTP/1.0. An absolute-form target
// (`GET http://example.com/path`, what a client configured for a proxy sends) is accepted as
// the path it names, with its authority as the Host, as nginx does.

import type { IncomingMessage } from 'node:http';

export interface RequestProblem {
  status: number;
  code: string;
  sentence: string;
}

const MISSING_HOST: RequestProblem = { status: 400, code: 'HTTP_MISSING_HOST', sentence: 'The request has no Host header, which HTTP/1.1 requires.' };
const DUPLICATE_HOST: RequestProblem = { status: 400, code: 'HTTP_DUPLICATE_HOST', sentence: 'The request has more than one Host header.' };
const BAD_HOST: RequestProblem = { status: 400, code: 'HTTP_BAD_HOST', sentence: 'The Host header is not a host name or address with an optional port.' };
const BAD_TARGET: RequestProblem = { status: 400, code: 'HTTP_BAD_TARGET', sentence: 'The request target must be a path starting with "/" or an http:// URL.' };
const USERINFO_TARGET: RequestProblem = { status: 400, code: 'HTTP_BAD_TARGET', sentence: 'The request target must not carry user information ("user:password@").' };
// Node's parser reads `HTTP/2.0` (and a line with no version, HTTP/0.9) as a request it can serve.
export const UNSUPPORTED_VERSION: RequestProblem = { status: 505, code: 'HTTP_VERSION_NOT_SUPPORTED', sentence: 'This server speaks HTTP/1.0 and HTTP/1.1 only.' };
// RFC 9112 6.1: HTTP/1.0 has no transfer codings, so such a message's framing is not to be trusted.
const HTTP10_CODING: RequestProblem = { status: 400, code: 'HTTP_BAD_FRAMING', sentence: 'An HTTP/1.0 request cannot carry a Transfer-Encoding header.' };
// Node's parser takes `gzip, chunked` apart by its last coding; the gzip would reach the handler undone.
const UNSUPPORTED_CODING: RequestProblem = { status: 501, code: 'HTTP_UNSUPPORTED_CODING', sentence: 'The only transfer coding this server accepts is chunked.' };

// Userinfo (`user:pass@host`) is matched to be refused: RFC 9110 4.2.4 has it treated as an error.
const ABSOLUTE_FORM = /^https?:\/\/(?:([^/?#\s@]*)@)?([^/?#\s@]+)((?:[/?][^#\s]*)?)$/i;
// RFC 3986 3.2.2-3.2.3: an IP literal in brackets (IPv6, with a zone as RFC 6874 writes it,
// `%25eth0`, or bare, `%eth0`, as nginx also accepts and `ip` prints it; or IPvFuture), or a name of unreserved characters, percent-encodings and sub-delimiters
// (IPv4 addresses are such names); then `:port`. Not empty: an http URI has a host (RFC 9110
// 4.2.1), and nginx refuses an empty one too. Two dots in a row are refused, as nginx does.
const HOST = /^(?:\[(?:[0-9A-Fa-f:.]+(?:%(?:25)?[A-Za-z0-9\-._~%]+)?|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]*)?$/;

/** Whether a Host header value (or a target's authority) is a host and optional port. */
export function isValidHost(value: string): boolean {
  return HOST.test(value) && !value.includes('..');
}

/** How many Host headers the request carries, whether it has a Transfer-Encoding, and whether one says more than `chunked`. */
function scan(raw: readonly string[]): { hosts: number; coding: boolean; otherCoding: boolean } {
  let hosts = 0;
  let coding = false;
  let otherCoding = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts += 1;
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      coding = true;
      if ((raw[i + 1] as string).trim().toLowerCase() !== 'chunked') otherCoding = true;
    }
  }
  return { hosts, coding, otherCoding };
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
  if (req.httpVersionMajor !== 1) return UNSUPPORTED_VERSION;
  const { hosts, coding, otherCoding } = scan(req.rawHeaders);
  if (hosts > 1) return DUPLICATE_HOST;
  if (coding && req.httpVersionMinor === 0) return HTTP10_CODING;
  if (otherCoding) return UNSUPPORTED_CODING;
  if (url.startsWith('/')) {
    if (hosts === 0) return req.httpVersion === '1.1' ? MISSING_HOST : undefined;
    return isValidHost(req.headers.host ?? '') ? undefined : BAD_HOST;
  }
  const absolute = ABSOLUTE_FORM.exec(url);
  if (!absolute) return BAD_TARGET;
  const [, userinfo, authority = '', path = ''] = absolute;
  if (userinfo !== undefined) return USERINFO_TARGET;
  if (!isValidHost(authority)) return BAD_HOST;
  req.url = path.startsWith('/') ? path : `/${path}`;
  replaceHost(req, authority);
  return undefined;
}

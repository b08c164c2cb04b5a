// The checks HTTP/1.1 asks of every server before a handler sees a request (RFC 9112 3.2):
// exactly one Host header, and a target that is a path. An absolute-form target
// (`GET http://example.com/path`, what a client configured for a proxy sends) is accepted
// as the path it names, with its authority as the Host, as nginx does.

import type { IncomingMessage } from 'node:http';

export interface RequestProblem {
  code: string;
  sentence: string;
}

const MISSING_HOST: RequestProblem = { code: 'HTTP_MISSING_HOST', sentence: 'The request has no Host header, which HTTP/1.1 requires.' };
const DUPLICATE_HOST: RequestProblem = { code: 'HTTP_DUPLICATE_HOST', sentence: 'The request has more than one Host header.' };
const BAD_TARGET: RequestProblem = { code: 'HTTP_BAD_TARGET', sentence: 'The request target must be a path starting with "/" or an http:// URL.' };

const ABSOLUTE_FORM = /^https?:\/\/([^/?#\s]+)([^#\s]*)$/i;

/** How many Host headers the request carries. */
function hostCount(raw: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).length === 4 && (raw[i] as string).toLowerCase() === 'host') count += 1;
  return count;
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
  const hosts = hostCount(req.rawHeaders);
  if (hosts > 1) return DUPLICATE_HOST;
  if (url.startsWith('/')) return hosts === 0 && req.httpVersion === '1.1' ? MISSING_HOST : undefined;
  const absolute = ABSOLUTE_FORM.exec(url);
  if (!absolute) return BAD_TARGET;
  const [, authority = '', path = ''] = absolute;
  req.url = path.startsWith('/') ? path : `/${path}`;
  replaceHost(req, authority);
  return undefined;
}

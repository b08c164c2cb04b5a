// The headers a request carries to a backend and a response carries back: hop-by-hop headers
// stripped, X-Forwarded-* set (replaced at the edge, appended behind a trusted proxy), and
// a request id generated when the client sent none.

import type { IncomingMessage } from 'node:http';
import { DRAINING_HEADER } from '@visit-counter/shared';

// RFC 9110 section 7.6.1, plus `expect`: Node has already answered 100-continue by now.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

export interface ForwardContext {
  proto: 'http' | 'https';
  trustProxy: boolean;
  /** Makes a request id when the client sent none (or an unusable one). */
  generateId: () => string;
}

/** What forwarding needs from the client's request head, read in one pass over its raw headers. */
export interface ClientHead {
  /** The headers for the backend, as the flat `[name, value, ...]` list undici takes. */
  headers: string[];
  requestId: string;
  host: string | undefined;
  hasBody: boolean;
}

/** A socket's peer address as X-Forwarded-For shows it: IPv4-mapped IPv6 as plain IPv4. */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

const NO_TOKENS: ReadonlySet<string> = new Set();

function connectionTokens(value: string | undefined): ReadonlySet<string> {
  // The usual values name no other header: no set to build.
  if (value === undefined || value === 'keep-alive' || value === 'close') return NO_TOKENS;
  return new Set(value.split(',').map((token) => token.trim().toLowerCase()).filter(Boolean));
}

/**
 * The client's head for the backend: hop-by-hop headers and those `Connection` lists left out
 * (but `Upgrade`/`Connection` kept for an upgrade), `X-Forwarded-*` replaced at the edge or
 * appended to behind a trusted proxy, `X-Request-Id` kept when sane or made anew.
 */
export function readClientHead(req: IncomingMessage, ctx: ForwardContext, keepUpgrade = false): ClientHead {
  return clientHeadFrom(req.rawHeaders, plainAddress(req.socket.remoteAddress), ctx, keepUpgrade);
}

/** `readClientHead` on a raw `[name, value, ...]` list, for heads parsed without Node's server. */
export function clientHeadFrom(raw: readonly string[], clientAddress: string, ctx: ForwardContext, keepUpgrade = false): ClientHead {
  const headers: string[] = [];
  let connection: string | undefined;
  let host: string | undefined;
  let givenId: string | undefined;
  let forwardedFor: string | undefined;
  let forwardedProto: string | undefined;
  let forwardedHost: string | undefined;
  let hasBody = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    switch (lower) {
      case 'host':
        host ??= value;
        break;
      case 'x-request-id':
        givenId ??= value;
        continue;
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        continue;
      case 'x-forwarded-proto':
        forwardedProto ??= value;
        continue;
      case 'x-forwarded-host':
        forwardedHost ??= value;
        continue;
      case 'content-length':
        if (value !== '0') hasBody = true;
        break;
      case 'transfer-encoding':
        hasBody = true;
        break;
      case 'connection':
        connection = connection === undefined ? value : `${connection}, ${value}`;
        break;
    }
    if (HOP_BY_HOP.has(lower) && !(keepUpgrade && (lower === 'upgrade' || lower === 'connection'))) continue;
    headers.push(name, value);
  }
  // Host always goes on: a client that lists it would have the request name another site
  // (undici's default Host, the backend's address); nginx ignores such a listing altogether.
  dropListed(headers, connectionTokens(connection), keepUpgrade ? KEPT_FOR_UPGRADE : KEPT);
  const requestId = usableRequestId(givenId) ?? ctx.generateId();
  const prior = ctx.trustProxy ? forwardedFor : undefined;
  headers.push('x-forwarded-for', prior ? `${prior}, ${clientAddress}` : clientAddress);
  headers.push('x-forwarded-proto', (ctx.trustProxy ? forwardedProto : undefined) ?? ctx.proto);
  const shownHost = (ctx.trustProxy ? forwardedHost : undefined) ?? host;
  if (shownHost !== undefined) headers.push('x-forwarded-host', shownHost);
  headers.push('x-request-id', requestId);
  return { headers, requestId, host, hasBody };
}

/** A client-supplied request id is kept when it is sane. */
function usableRequestId(given: string | undefined): string | undefined {
  if (given !== undefined && given.length > 0 && given.length <= 200 && /^[\x21-\x7e]+$/.test(given)) return given;
  return undefined;
}

/**
 * The response head for the client, as the flat `[name, value, ...]` list `writeHead` takes:
 * the backend's raw headers less hop-by-hop ones, those its `Connection` lists and those `extra`
 * names, then `extra`. A 204's Content-Length is left out too: it has no body, and RFC 9110 8.6
 * has a server send none (a 304's is the length a 200 would have, and stays).
 * Also says whether the backend flagged itself as draining (that header stays here), and whether
 * it gave the body's length.
 */
export function downstreamRawHeaders(raw: readonly Buffer[], extra: readonly string[], status: number): { headers: string[]; draining: boolean; hasLength: boolean } {
  let connection: string | undefined;
  const headers: string[] = [];
  let draining = false;
  let hasLength = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1');
    const lower = name.toLowerCase();
    if (lower === 'connection') {
      const value = (raw[i + 1] as Buffer).toString('latin1');
      connection = connection === undefined ? value : `${connection}, ${value}`;
    } else if (lower === 'content-length') {
      if (status === 204) continue;
      hasLength = true;
    }
    if (HOP_BY_HOP.has(lower)) continue;
    if (lower === DRAINING_HEADER) {
      draining = true;
      continue;
    }
    if (namedIn(extra, lower)) continue; // ours replace the backend's (X-Request-Id echoed back)
    headers.push(name, (raw[i + 1] as Buffer).toString('latin1'));
  }
  dropListed(headers, connectionTokens(connection));
  for (const item of extra) headers.push(item);
  return { headers, draining, hasLength };
}

const KEPT: readonly string[] = ['host'];
const KEPT_FOR_UPGRADE: readonly string[] = ['host', 'upgrade'];

/** Leaves out of `headers` those a `Connection` header listed (all but `keep`, lower case). */
function dropListed(headers: string[], listed: ReadonlySet<string>, keep: readonly string[] = []): void {
  if (listed.size === 0) return;
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    const lower = (headers[i] as string).toLowerCase();
    if (listed.has(lower) && !keep.includes(lower)) headers.splice(i, 2);
  }
}

function namedIn(list: readonly string[], lower: string): boolean {
  for (let i = 0; i < list.length; i += 2) if (list[i] === lower) return true;
  return false;
}

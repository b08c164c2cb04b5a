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

export type HeaderMap = Record<string, string | string[]>;

export interface ForwardContext {
  clientAddress: string;
  proto: 'http' | 'https';
  trustProxy: boolean;
  requestId: string;
}

export function clientAddressOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function connectionTokens(value: string | string[] | undefined): Set<string> {
  if (value === undefined) return new Set();
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(text.split(',').map((token) => token.trim().toLowerCase()).filter(Boolean));
}

/** The request headers for the backend, from the client's raw headers. */
export function upstreamRequestHeaders(req: IncomingMessage, ctx: ForwardContext, keepUpgrade = false): HeaderMap {
  const listed = connectionTokens(req.headers.connection);
  const out: HeaderMap = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if ((HOP_BY_HOP.has(name) || listed.has(name)) && !(keepUpgrade && (name === 'upgrade' || name === 'connection'))) continue;
    if (name === 'x-forwarded-for' || name === 'x-forwarded-proto' || name === 'x-forwarded-host' || name === 'x-request-id') continue;
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = [existing, value];
  }
  const incoming = req.headers['x-forwarded-for'];
  const prior = ctx.trustProxy && incoming ? (Array.isArray(incoming) ? incoming.join(', ') : incoming) : '';
  out['x-forwarded-for'] = prior ? `${prior}, ${ctx.clientAddress}` : ctx.clientAddress;
  const priorProto = ctx.trustProxy ? req.headers['x-forwarded-proto'] : undefined;
  out['x-forwarded-proto'] = typeof priorProto === 'string' ? priorProto : ctx.proto;
  const priorHost = ctx.trustProxy ? req.headers['x-forwarded-host'] : undefined;
  const host = typeof priorHost === 'string' ? priorHost : req.headers.host;
  if (host !== undefined) out['x-forwarded-host'] = host;
  out['x-request-id'] = ctx.requestId;
  return out;
}

/**
 * The response head for the client, as the flat `[name, value, ...]` list `writeHead` takes:
 * the backend's raw headers less hop-by-hop ones and those its `Connection` lists, then `extra`.
 * Also says whether the backend flagged itself as draining (that header stays here).
 */
export function downstreamRawHeaders(raw: readonly Buffer[], extra: readonly string[]): { headers: string[]; draining: boolean } {
  let listed: Set<string> | undefined;
  const headers: string[] = [];
  let draining = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1');
    const lower = name.toLowerCase();
    if (lower === 'connection') listed = connectionTokens((raw[i + 1] as Buffer).toString('latin1'));
    if (HOP_BY_HOP.has(lower)) continue;
    if (lower === DRAINING_HEADER) {
      draining = true;
      continue;
    }
    headers.push(name, (raw[i + 1] as Buffer).toString('latin1'));
  }
  if (listed !== undefined) {
    const tokens = listed;
    for (let i = headers.length - 2; i >= 0; i -= 2) if (tokens.has((headers[i] as string).toLowerCase())) headers.splice(i, 2);
  }
  for (const item of extra) headers.push(item);
  return { headers, draining };
}

/** A client-supplied request id is kept when it is sane; otherwise a new one is made. */
export function requestIdOf(req: IncomingMessage, generate: () => string): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && given.length > 0 && given.length <= 200 && /^[\x21-\x7e]+$/.test(given)) return given;
  return generate();
}

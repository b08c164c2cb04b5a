// Readers for typed configuration from environment variables. Each reader validates
// once, at start-up, and throws a ConfigError naming the variable, the value and the rule.
// An unset or empty variable takes the documented default. A variable named `*_MS` is a
// timer's delay: readInteger refuses it above MAX_TIMER_MS whatever its own rule says.

import { isIP } from 'node:net';
import { ConfigError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function readString(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function readOptionalString(env: Env, name: string): string | undefined {
  return raw(env, name);
}

export interface IntegerRule {
  min?: number;
  max?: number;
}

/**
 * The longest delay Node.js timers take, in ms (2^31 - 1, about 24.8 days). A longer one
 * overflows: Node warns (TimeoutOverflowWarning) and fires after 1 ms instead, so every
 * variable whose name ends in `_MS` is a timer's delay and is refused above this.
 */
const MAX_TIMER_MS = 2_147_483_647;

export function readInteger(env: Env, name: string, fallback: number, rule: IntegerRule = {}): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const min = rule.min ?? Number.MIN_SAFE_INTEGER;
  const unbounded = name.endsWith('_MS') ? MAX_TIMER_MS : Number.MAX_SAFE_INTEGER;
  const max = Math.min(rule.max ?? unbounded, unbounded);
  // Without a max of its own, the rule reads "a positive integer"; a timer's cap is then
  // left unsaid, and said only when it is what the value broke.
  const wordless = max === unbounded && (min === 0 || min === 1);
  const expected = !wordless ? `an integer from ${min} to ${max}` : min === 1 ? 'a positive integer' : 'a non-negative integer';
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, value, expected);
  const parsed = Number(value);
  if (parsed < min) throw new ConfigError(name, value, expected);
  if (parsed > max) {
    const cap = wordless && max === MAX_TIMER_MS ? ` no larger than ${MAX_TIMER_MS} (about 24.8 days, the longest timer Node.js allows)` : '';
    throw new ConfigError(name, value, expected + cap);
  }
  return parsed;
}

export function readPort(env: Env, name: string, fallback: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new ConfigError(name, value, 'a TCP port number from 0 to 65535');
  }
  return Number(value);
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw new ConfigError(name, value, 'true or false');
}

export function readEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const match = allowed.find((candidate) => candidate === value.toLowerCase());
  if (match === undefined) throw new ConfigError(name, value, `one of ${allowed.join(', ')}`);
  return match;
}

/**
 * A URL as it may be printed: the password in its user information masked (`redis://:***@cache`),
 * a lone user information too, since Redis takes that as the password. Works on text that does
 * not parse as a URL as well: a malformed value is what a configuration error prints, often
 * because its password holds a `/`, `?` or `#`. So everything up to the last `@` is taken for
 * user information: a path with an `@` in it is masked too, rather than a password shown.
 */
export function maskUrlPassword(text: string): string {
  return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(.*)@/s, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon === -1 ? '***' : `${userinfo.slice(0, colon)}:***`}@`;
  });
}

/** A URL of one of `protocols`; a configuration error prints the value with its password masked. */
export function readUrl(env: Env, name: string, fallback: string, protocols: readonly string[]): URL {
  const value = raw(env, name) ?? fallback;
  const expected = `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, maskUrlPassword(value), expected);
  }
  if (!protocols.includes(url.protocol)) throw new ConfigError(name, maskUrlPassword(value), expected);
  return url;
}

/** A DNS name: dot-separated labels of letters, digits, `-` and `_` (Docker service names), not
 * starting or ending with `-`; the last one not all digits (that would be a malformed IPv4). */
const HOST_NAME = /^(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*(?!\d+\.?$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$/;

/** An address to listen on: an IP address or a host name, without a port; undefined when unset (all addresses). */
export function readHost(env: Env, name: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  if (isIP(value) === 0 && !HOST_NAME.test(value)) {
    throw new ConfigError(name, value, 'an IP address (such as 0.0.0.0 or ::) or a host name, without a port');
  }
  return value;
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses `name:port`, `ipv4:port` or `[ipv6]:port`; the port is required. Returns undefined
 * when malformed: a host is a DNS name by HOST's rule, an IPv4 address, or in brackets an IPv6
 * address without a zone, and the URL parser (undici's) takes it as written: `999.1.1.1`,
 * `web.1` or `[fe80::1%eth0]` make no URL, `1.0x2` a different one.
 */
export function parseHostPort(text: string): HostPort | undefined {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const [, bracketed, plain, digits] = match;
  const port = Number(digits);
  if (port < 1 || port > 65535) return undefined;
  // A zone (`%eth0`) is an address on this machine only, and the URL parser refuses it.
  if (bracketed !== undefined) return isIP(bracketed) === 6 && !bracketed.includes('%') ? { host: bracketed, port } : undefined;
  if (plain === undefined || (isIP(plain) !== 4 && !HOST_NAME.test(plain))) return undefined;
  // The URL parser reads a name whose last label looks like a number as an IPv4 address
  // (`1.0x2` is 1.0.0.2, `a.0x1` is no address at all): only a host it takes as written.
  return urlHostname(plain) === plain.toLowerCase() ? { host: plain, port } : undefined;
}

function urlHostname(host: string): string | undefined {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
}

export function readHostPortList(env: Env, name: string): HostPort[] {
  const value = raw(env, name);
  if (value === undefined) return [];
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  return items.map((item) => {
    const parsed = parseHostPort(item);
    if (!parsed) throw new ConfigError(name, value, 'a comma-separated list of host:port (port 1-65535)');
    return parsed;
  });
}

export function readHostPort(env: Env, name: string): HostPort | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  const parsed = parseHostPort(value);
  if (!parsed) throw new ConfigError(name, value, 'name:port (port 1-65535)');
  return parsed;
}

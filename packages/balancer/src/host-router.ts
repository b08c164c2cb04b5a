// Host-based routing, as a pure function: which route a request's Host header selects.
// Exact names win over wildcards (`*.app.dev`), the longest wildcard first; no match
// selects the default route, when there is one.

export interface HostRoute<T> {
  /** `api.app.dev` or `*.app.dev`, lower case. */
  pattern: string;
  target: T;
}

/** `API.App.dev:80` -> `api.app.dev`; `[::1]:80` -> `::1`. */
export function hostnameOf(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  let host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') === -1 ? undefined : host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

export function createHostRouter<T>(routes: ReadonlyArray<HostRoute<T>>, fallback: T | undefined): (hostHeader: string | undefined) => T | undefined {
  const exact = new Map<string, T>();
  const wildcards: Array<{ suffix: string; target: T }> = [];
  for (const route of routes) {
    if (route.pattern.startsWith('*.')) wildcards.push({ suffix: route.pattern.slice(1), target: route.target });
    else exact.set(route.pattern, route.target);
  }
  wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  if (exact.size === 0 && wildcards.length === 0) return () => fallback;
  return (hostHeader) => {
    const host = hostnameOf(hostHeader);
    const found = exact.get(host);
    if (found !== undefined) return found;
    for (const wildcard of wildcards) if (host.endsWith(wildcard.suffix)) return wildcard.target;
    return fallback;
  };
}

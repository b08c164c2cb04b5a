// How WORKERS processes share the listening port, as a pure function of the settings, the
// Node.js version and the platform (main.ts passes `process.versions.node` and
// `process.platform`).
//
// - 'reuseport': each worker listens on a socket of its own with SO_REUSEPORT, and the kernel
//   spreads new connections over them by a hash of each connection's addresses, blind to load
//   (nginx's `listen ... reuseport`). Node has the option since 22.12 and 23.1; libuv allows it
//   on Linux and FreeBSD (elsewhere listening would fail).
// - 'shared': every worker accepts from one socket. Whichever worker wakes first takes the
//   connections waiting then, so a burst can land on a single worker: 60 connections opened
//   at once split 1:59 in some runs here. Older Node, other platforms, and PORT=0, where each
//   worker's own socket would get a port of its own.
// - 'single': one process, nothing to share.

export type PortSharing = 'single' | 'shared' | 'reuseport';

/** Whether `listen({ reusePort })` exists in this Node.js version ("22.12.0"). */
export function supportsReusePort(nodeVersion: string): boolean {
  const [major = 0, minor = 0] = nodeVersion.split('.').map(Number);
  if (major === 22) return minor >= 12;
  if (major === 23) return minor >= 1;
  return major > 23;
}

const REUSEPORT_PLATFORMS: ReadonlySet<string> = new Set(['linux', 'freebsd']);

export function portSharing(workers: number, port: number, nodeVersion: string, platform: string): PortSharing {
  if (workers <= 1) return 'single';
  return port !== 0 && supportsReusePort(nodeVersion) && REUSEPORT_PLATFORMS.has(platform) ? 'reuseport' : 'shared';
}

// Every process the benchmark starts goes through here: each runs in its own process group
// (so a balancer's workers, nginx's and wrk's threads go with it), and stopAll() kills every
// group that is still alive, at the end, on Ctrl-C and on a crash. Nothing is left behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';

export interface Managed {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last lines it wrote to stderr (and stdout when captured), for error messages. */
  output(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where stdout goes: 'capture' keeps the tail in memory, 'null' discards it without costing the parent. */
  stdout?: 'capture' | 'null';
  /** Raise the open-file limit first (1000 client connections plus the upstream ones). */
  manyFiles?: boolean;
}

const running = new Set<Managed>();
const FILE_LIMIT = 65_536;
const KEEP_OUTPUT = 8_000;

export function startProcess(name: string, command: string, args: readonly string[], options: StartOptions = {}): Managed {
  // `exec` keeps the pid: the shell only raises the limit (to the hard limit when 65536 is refused).
  const wrapped = options.manyFiles
    ? ['bash', ['-c', `ulimit -n ${FILE_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, command, ...args]] as const
    : ([command, args] as const);
  const devNull = openSync('/dev/null', 'w');
  const child = spawn(wrapped[0], wrapped[1], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', options.stdout === 'capture' ? 'pipe' : devNull, 'pipe'],
  });
  closeSync(devNull);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-KEEP_OUTPUT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exitedFlag = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exitedFlag = true;
      resolve();
    });
    child.once('error', (error) => {
      tail += `\nfailed to start ${command}: ${error.message}`;
      exitedFlag = true;
      resolve();
    });
  });
  const managed: Managed = {
    name,
    pid: child.pid ?? -1,
    child,
    output: () => tail,
    exited: () => exitedFlag,
    async stop() {
      running.delete(managed);
      if (exitedFlag) return;
      signalGroup(managed.pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(managed.pid, 'SIGKILL'), 3_000);
      await exit;
      clearTimeout(timer);
      // Workers or threads of the group that outlived their leader.
      signalGroup(managed.pid, 'SIGKILL');
    },
  };
  running.add(managed);
  return managed;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Runs a command to its end and returns its stdout (the load generators). */
export function runToEnd(name: string, command: string, args: readonly string[], options: StartOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const managed = startProcess(name, command, args, { ...options, stdout: 'capture' });
    let stdout = '';
    let stderr = '';
    managed.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    managed.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    managed.child.once('close', (code) => {
      running.delete(managed);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].reverse().map((managed) => managed.stop()));
}

/** Last resort when the process is exiting and cannot wait: SIGKILL every group still alive. */
export function killAllNow(): void {
  for (const managed of running) signalGroup(managed.pid, 'SIGKILL');
  running.clear();
}

/** A process and all its descendants (a balancer's workers, nginx's worker). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces or parentheses: fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  const tree: number[] = [];
  const visit = (id: number): void => {
    tree.push(id);
    for (const child of children.get(id) ?? []) visit(child);
  };
  visit(pid);
  return tree;
}

/** Resident memory of a process and all its descendants, in MiB. */
export function treeRssMiB(pid: number): number | undefined {
  let totalKiB = 0;
  let found = false;
  for (const id of processTree(pid)) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${id}/status`, 'utf8'));
      if (match) {
        totalKiB += Number(match[1]);
        found = true;
      }
    } catch {
      // gone
    }
  }
  return found ? Math.round((totalKiB / 1024) * 10) / 10 : undefined;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU time (user + system, all threads) used so far by a process and its descendants, in seconds. */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const id of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / TICKS_PER_SECOND;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns true; fails with the process's output when it exits or time runs out. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, owner?: Managed, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (owner?.exited()) throw new Error(`${owner.name} exited while waiting for ${what}:\n${owner.output()}`);
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${owner ? `:\n${owner.output()}` : ''}`);
}

/** One GET to a loopback URL (readiness probes); resolves with the status and body. */
export async function httpGet(url: string, timeoutMs = 2_000): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: 'close' } });
  return { status: response.status, body: await response.text() };
}

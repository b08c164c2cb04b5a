// Runs a package's `src/main.ts` as its own process, the way `npm start` does, for tests of
// what only a process shows: exit codes, signals, what it prints.

import { spawn, type ChildProcess } from 'node:child_process';

/** What a test needs from node:test: a place to register cleanup (a TestContext or a suite). */
export interface Cleanup {
  after(fn: () => unknown): void;
}

export interface MainProcess {
  child: ChildProcess;
  /** The JSON log lines printed so far. */
  logLines(): Array<Record<string, unknown>>;
  stdout(): string;
  stderr(): string;
  /** Resolves once the process has exited and its output has been read to the end. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `packageDir` holds `src/main.ts`; `env` is added to this process's environment; `nodeFlags` go before the script. */
export function spawnMain(t: Cleanup, packageDir: string, env: Record<string, string | undefined>, nodeFlags: readonly string[] = []): MainProcess {
  const child = spawn(process.execPath, [...nodeFlags, '--conditions=source', '--import', 'tsx', 'src/main.ts'], {
    cwd: packageDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': only then has everything the process printed been read.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return {
    child,
    logLines: () =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
  };
}

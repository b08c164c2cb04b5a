// `npm start` without Docker, as a user sees it: the script brings up Redis, the web replicas
// and the balancer, requests go round-robin with a shared count, Ctrl-C (SIGINT) stops every
// process and exits 0, and a replica that dies on its own takes the topology down with exit 1.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectionRefused } from '@visit-counter/shared/test-helpers';

const SCRIPT = fileURLToPath(new URL('./local-topology.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const READY_DEADLINE_MS = 60_000; // the script's own deadlines are 10 s (Redis) + 30 s (replicas up)
const EXIT_DEADLINE_MS = 20_000; // the script's stop deadline is 5 s per stage, three stages

interface Member {
  name: string;
  port: number;
  pid: number;
}

interface Topology {
  child: ChildProcess;
  url: URL;
  members: Member[];
  tempDir: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startTopology(t: TestContext, webReplicas: number): Promise<Topology> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', WEB_REPLICAS: String(webReplicas) };
  delete env['REDIS_URL']; // a fresh Redis, so the count starts at 1
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', SCRIPT], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    for (const wake of waiters) wake();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const wake of waiters) wake();
    });
  });

  t.after(async () => {
    // A failed assertion must not leave the topology running: stop it the polite way first.
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_DEADLINE_MS);
    await exited;
    clearTimeout(timer);
  });

  const ready = /^topology \| ready: (http:\/\/\S+) /m;
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (ready.test(text)) finish(resolve);
      else if (child.exitCode !== null || child.signalCode !== null) finish(() => reject(new Error(`the script exited before it was ready:\n${text}`)));
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no ready line within ${READY_DEADLINE_MS} ms:\n${text}`))), READY_DEADLINE_MS);
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      waiters.delete(check);
      settle();
    };
    waiters.add(check);
    check();
  });

  const members = [...text.matchAll(/^topology \| (\S+) on 127\.0\.0\.1:(\d+) \(pid (\d+)/gm)].map((match) => ({
    name: match[1] as string,
    port: Number(match[2]),
    pid: Number(match[3]),
  }));
  const tempDir = /data in (\S+), removed on exit/.exec(text)?.[1];
  assert.ok(tempDir !== undefined, `the script names its temporary directory:\n${text}`);
  return { child, url: new URL((ready.exec(text) as RegExpExecArray)[1] as string), members, tempDir, output: () => text, exited };
}

function getJson(url: URL): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers: { accept: 'application/json' }, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as Record<string, unknown> }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url.href} timed out`)));
    req.on('error', reject);
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function waitForExit(topology: Topology): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the script did not exit within ${EXIT_DEADLINE_MS} ms:\n${topology.output()}`)), EXIT_DEADLINE_MS);
  });
  try {
    return await Promise.race([topology.exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function assertAllGone(topology: Topology): Promise<void> {
  for (const member of topology.members) {
    assert.equal(isAlive(member.pid), false, `${member.name} (pid ${member.pid}) is still running`);
    assert.equal(await connectionRefused(member.port), true, `${member.name}'s port ${member.port} is still open`);
  }
  assert.equal(existsSync(topology.tempDir), false, `${topology.tempDir} was not removed`);
}

test('three replicas answer round-robin with counts 1..6, and SIGINT stops every process with exit 0', async (t) => {
  const topology = await startTopology(t, 3);
  assert.deepEqual(
    topology.members.map((member) => member.name),
    ['redis', 'web-1', 'web-2', 'web-3', 'balancer'],
  );

  const visits: Array<{ visits: unknown; hostname: unknown }> = [];
  for (let i = 0; i < 6; i += 1) {
    const { status, body } = await getJson(topology.url);
    assert.equal(status, 200, JSON.stringify(body));
    visits.push({ visits: body['visits'], hostname: body['hostname'] });
  }
  assert.deepEqual(
    visits.map((visit) => visit.visits),
    [1, 2, 3, 4, 5, 6],
  );
  const hostnames = visits.map((visit) => visit.hostname);
  assert.deepEqual([...hostnames.slice(0, 3)].sort(), ['web-1', 'web-2', 'web-3'], `every replica answers once per round: ${hostnames.join(', ')}`);
  assert.deepEqual(hostnames.slice(3), hostnames.slice(0, 3), `the second round repeats the first: ${hostnames.join(', ')}`);

  topology.child.kill('SIGINT');
  const { code, signal } = await waitForExit(topology);
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, topology.output());
  await assertAllGone(topology);
});

test('a replica that dies on its own stops the whole topology with exit 1', async (t) => {
  const topology = await startTopology(t, 2);
  const victim = topology.members.find((member) => member.name === 'web-2');
  assert.ok(victim, topology.output());

  process.kill(victim.pid, 'SIGKILL');
  const { code, signal } = await waitForExit(topology);
  assert.deepEqual({ code, signal }, { code: 1, signal: null }, topology.output());
  assert.match(topology.output(), /^topology \| web-2 was killed by SIGKILL unexpectedly; stopping everything$/m);
  await assertAllGone(topology);
});

test('a port taken by another balancer: no ready line for it, exit 1', async (t) => {
  // Another balancer's status page, with one backend up: as many as this run wants.
  const other = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ totals: { backends: 1, up: 1 }, backends: [{ id: '127.0.0.1:9', state: 'up' }] }));
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  t.after(() => other.close());
  const { port } = other.address() as AddressInfo;

  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), WEB_REPLICAS: '1' };
  delete env['REDIS_URL'];
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', SCRIPT], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the script did not exit within ${READY_DEADLINE_MS} ms:\n${text}`)), READY_DEADLINE_MS);
  });
  const result = await Promise.race([exited, deadline]).finally(() => clearTimeout(timer));
  assert.deepEqual(result, { code: 1, signal: null }, text);
  assert.doesNotMatch(text, /ready:/, text);
  assert.match(text, /another process already listens on that port/, text);
});

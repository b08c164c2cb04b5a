// The Docker Swarm end-to-end test: deploy/swarm/stack.yaml with `docker stack deploy` on a
// single-node swarm (made for the test when the engine is in none), driven over loopback
// the way a user would with curl. Only a machine where `docker swarm init` is impossible
// skips it, with a SKIPPED line.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createStack, docker, get, lbStatus, lines, parseVisit, pickPort, run, waitFor, DOCKER } from './compose-stack.js';

const STACK = 'visit-counter-e2e-swarm';
const STACK_FILE = 'deploy/swarm/stack.yaml';
const LABEL = `label=com.docker.stack.namespace=${STACK}`;

interface Swarm {
  /** This test (or an earlier run that was killed) made the swarm, so it leaves it at the end. */
  created: boolean;
  /** The bridge that `swarm init` makes did not exist before: removed after leaving. */
  gwbridgeCreated: boolean;
}

// Labels on the node of a swarm this test made: a run that was killed before it could leave
// is recognised by the next one, which then leaves it.
const MADE_HERE = 'org.visit-counter.e2e-swarm';
const GWBRIDGE_MADE_HERE = 'org.visit-counter.e2e-gwbridge';

/** Joins a single-node swarm, or says why that is impossible here. The engine must answer. */
async function joinSwarm(): Promise<Swarm | string> {
  const info = async () => (await docker(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.NodeID}}'])).trim().split(' ');
  const [state, manager] = await info();
  if (state === 'active') {
    if (manager !== 'true') return 'this engine is a worker of another swarm (stack deploy needs a manager)';
    const labels = JSON.parse(await docker(['node', 'inspect', 'self', '--format', '{{json .Spec.Labels}}'])) as Record<string, string> | null;
    return { created: labels?.[MADE_HERE] === 'true', gwbridgeCreated: labels?.[GWBRIDGE_MADE_HERE] === 'true' };
  }
  if (state !== 'inactive') return `the engine's swarm state is "${state}"`;
  const gwbridgeCreated = (await run(DOCKER, ['network', 'inspect', 'docker_gwbridge'])).code !== 0;
  // Loopback only: the swarm's control port is not offered to the network.
  const init = await run(DOCKER, ['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:2377']);
  if (init.code !== 0) return `docker swarm init failed: ${(init.stderr || init.stdout).trim().split('\n')[0]}`;
  const [, , node = 'self'] = await info();
  await docker(['node', 'update', '--label-add', `${MADE_HERE}=true`, '--label-add', `${GWBRIDGE_MADE_HERE}=${gwbridgeCreated}`, node]);
  return { created: true, gwbridgeCreated };
}

const swarm = await joinSwarm();
const skip = typeof swarm === 'string' ? swarm : false;
if (skip) console.error(`SKIPPED: docker swarm e2e: ${skip}`);

// A host-mode publish binds 0.0.0.0: 8088 when free there, else any free port.
const port = await pickPort(Number(process.env['E2E_SWARM_HTTP_PORT'] ?? 8088));
const keep = process.env['E2E_KEEP'] === '1';

const status = () => lbStatus(port);

async function visit(): Promise<{ count: number; hostname: string }> {
  const reply = await get(port, '/');
  assert.equal(reply.status, 200, `GET / answered ${reply.status}: ${reply.body}`);
  return parseVisit(reply.body);
}

/** The running web replicas: container id and address on the stack's backend network. */
async function webReplicas(): Promise<Array<{ id: string; ip: string }>> {
  const ids = lines(await docker(['ps', '-q', '--no-trunc', '--filter', `label=com.docker.swarm.service.name=${STACK}_web`, '--filter', 'status=running']));
  if (ids.length === 0) return [];
  const out = await docker(['inspect', '--format', `{{.Id}} {{(index .NetworkSettings.Networks "${STACK}_backend").IPAddress}}`, ...ids]);
  return lines(out).map((line) => {
    const [id = '', ip = ''] = line.split(' ');
    return { id, ip };
  });
}

/** What is left of the stack: services, containers, networks. */
async function leftovers(): Promise<string[]> {
  const services = lines(await docker(['service', 'ls', '-q', '--filter', LABEL]));
  const containers = lines(await docker(['ps', '-aq', '--filter', LABEL]));
  const networks = lines(await docker(['network', 'ls', '-q', '--filter', LABEL]));
  return [...services.map((id) => `service ${id}`), ...containers.map((id) => `container ${id}`), ...networks.map((id) => `network ${id}`)];
}

/**
 * `docker stack rm` and wait until nothing of the stack is left; then drop its volume. The
 * engine removes networks asynchronously and can give up on one whose endpoints were still
 * going; `stack rm` is asked again every 20 s (it is idempotent), as an operator would.
 */
async function removeStack(timeoutMs: number): Promise<void> {
  let asked = Date.now();
  let left: string[] = [];
  await run(DOCKER, ['stack', 'rm', STACK]);
  await waitFor(
    'the stack to be removed',
    async () => {
      left = await leftovers();
      if (left.length === 0) return true;
      if (Date.now() - asked > 20_000) {
        asked = Date.now();
        await run(DOCKER, ['stack', 'rm', STACK]);
      }
      throw new Error(`still there: ${left.join(', ')}`);
    },
    timeoutMs,
    500,
  );
  // The volume is not part of `stack rm`; its last container may take a moment to go.
  await waitFor(
    'the Redis volume to be removed',
    async () => {
      const volume = `${STACK}_redis-data`;
      if ((await run(DOCKER, ['volume', 'inspect', volume])).code !== 0) return true;
      await docker(['volume', 'rm', volume]);
      return true;
    },
    30_000,
    500,
  );
}

let removed = false;

before(async () => {
  if (skip) return;
  let t = Date.now();
  const took = (what: string) => {
    console.error(`swarm e2e: ${what} took ${((Date.now() - t) / 1000).toFixed(1)} s`);
    t = Date.now();
  };
  // The images of compose.yaml, tagged visit-counter-web and visit-counter-balancer.
  await createStack(port).compose('build');
  took('the image build');
  await removeStack(90_000); // a stack left by an aborted run
  took('removing a stale stack');
  await docker(['stack', 'deploy', '--resolve-image', 'never', '--prune', '-c', STACK_FILE, STACK], { HTTP_PORT: String(port) });
  await waitFor('three healthy backends', async () => ((await status()).totals.up === 3 ? true : undefined), 120_000, 500);
  took(`deploying the stack until three backends are up on port ${port}`);
});

after(async () => {
  if (skip || keep) return;
  if (!removed) await removeStack(90_000).catch((error: Error) => console.error(`cleanup: ${error.message}`));
  if (typeof swarm === 'object' && swarm.created) {
    await run(DOCKER, ['swarm', 'leave', '--force']);
    if (swarm.gwbridgeCreated) await run(DOCKER, ['network', 'rm', 'docker_gwbridge']);
  }
});

test('30 requests go round-robin over the three tasks of the web service, counts rising by one', { skip }, async () => {
  const visits: Array<{ count: number; hostname: string }> = [];
  for (let i = 0; i < 30; i++) visits.push(await visit());
  const hostnames = visits.map((v) => v.hostname);
  assert.equal(new Set(hostnames).size, 3, `three distinct container hostnames: ${hostnames.join(' ')}`);
  hostnames.forEach((hostname, i) => assert.equal(hostname, hostnames[i % 3], `request ${i + 1} breaks round robin`));
  assert.equal(visits[0]?.count, 1, 'a fresh stack counts from 1');
  visits.forEach((v, i) => i > 0 && assert.equal(v.count, (visits[i - 1]?.count ?? 0) + 1));

  // The hostnames are the tasks' containers (Swarm names each after its short id).
  const replicas = await webReplicas();
  assert.deepEqual([...new Set(hostnames)].sort(), replicas.map((r) => r.id.slice(0, 12)).sort());
});

test('docker service scale web=5 is picked up: five hostnames answer, /_lb/status lists the five', { skip }, async () => {
  await docker(['service', 'scale', '--detach', `${STACK}_web=5`]);
  // Sequential visits until five hostnames have answered (bounded by time and count); every
  // one must succeed, with counts rising by one.
  const visits: Array<{ count: number; hostname: string }> = [];
  const hostnames = new Set<string>();
  const deadline = Date.now() + 90_000;
  while (hostnames.size < 5 && Date.now() < deadline && visits.length < 5_000) {
    const v = await visit();
    visits.push(v);
    hostnames.add(v.hostname);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(hostnames.size, 5, `five distinct hostnames within 90 s: ${[...hostnames].join(' ')}`);
  visits.forEach((v, i) => i > 0 && assert.equal(v.count, (visits[i - 1]?.count ?? 0) + 1));

  const replicas = await webReplicas();
  assert.equal(replicas.length, 5);
  assert.deepEqual([...hostnames].sort(), replicas.map((r) => r.id.slice(0, 12)).sort());
  const current = await waitFor('five healthy backends', async () => {
    const s = await status();
    return s.totals.up === 5 && s.backends.length === 5 ? s : undefined;
  }, 30_000);
  assert.ok(current.backends.every((backend) => backend.state === 'up' && backend.port === 3000));
  assert.deepEqual(current.backends.map((backend) => backend.address).sort(), replicas.map((r) => r.ip).sort(), 'the backends are the tasks of tasks.web');
});

test('docker stack rm takes everything down within 90 s', { skip: skip || (keep ? 'E2E_KEEP=1' : false) }, async () => {
  await removeStack(90_000);
  removed = true;
  assert.deepEqual(await leftovers(), []);
  await assert.rejects(get(port, '/', 2_000), 'nothing answers on the published port any more');
});

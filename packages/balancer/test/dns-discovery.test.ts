// DNS discovery with a resolver the test controls: addresses that appear join the pool and
// get traffic after their first passed check; addresses that disappear are drained (no new
// requests, the ones in flight finish) and then leave; a failed look-up keeps the last known
// pool and is logged once, not on every refresh.
//
// BACKENDS_DNS names one port for every address, so the backends listen on the same port on
// three loopback addresses: 127.0.0.1, 127.0.0.2 and 127.0.0.3 (all of 127/8 is loopback on
// Linux; where it is not, the test is skipped).

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { FakeBackend } from './helpers/fake-backend.js';
import { startBalancer, waitForStates, waitForUp, type StartedBalancer } from './helpers/balancer.js';
import { waitFor } from './helpers/wait-for.js';

const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'] as const;

/** Backends on one port across HOSTS, or undefined when the extra loopback addresses are missing. */
async function startOnOnePort(t: TestContext): Promise<FakeBackend[] | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const first = new FakeBackend({ name: 'dns-1', host: HOSTS[0] });
    await first.start();
    const backends = [first];
    try {
      for (const [i, host] of HOSTS.slice(1).entries()) {
        const backend = new FakeBackend({ name: `dns-${i + 2}`, host, port: first.port });
        await backend.start();
        backends.push(backend);
      }
      t.after(() => Promise.all(backends.map((backend) => backend.stop())));
      return backends;
    } catch (error) {
      await Promise.all(backends.map((backend) => backend.stop()));
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRNOTAVAIL') return undefined;
      if (code !== 'EADDRINUSE') throw error;
    }
  }
  throw new Error('no port was free on all three loopback addresses in 5 attempts');
}

interface ControlledDns {
  answer: string[] | Error;
  lookups: number;
  resolve(name: string): Promise<string[]>;
}

function controlledDns(first: string[]): ControlledDns {
  const dns: ControlledDns = {
    answer: first,
    lookups: 0,
    async resolve(name) {
      dns.lookups += 1;
      assert.equal(name, 'web.internal');
      if (dns.answer instanceof Error) throw dns.answer;
      return [...dns.answer];
    },
  };
  return dns;
}

async function startDnsBalancer(t: TestContext, dns: ControlledDns, port: number): Promise<StartedBalancer> {
  // Look-ups and checks happen when the test says so (refresh(), checkAll()) and when a backend joins.
  return startBalancer(t, { BACKENDS_DNS: `web.internal:${port}`, HEALTH_INTERVAL_MS: '600000' }, { resolve: (name) => dns.resolve(name) });
}

const idsOf = async (lb: StartedBalancer): Promise<string[]> => (await lb.status()).backends.map((b) => b.id);

test('addresses that appear join the pool once their first check passes', { timeout: 20_000 }, async (t) => {
  const backends = await startOnOnePort(t);
  if (!backends) return t.skip('127.0.0.2 and 127.0.0.3 are not loopback addresses here');
  const [one, two, three] = backends as [FakeBackend, FakeBackend, FakeBackend];
  const dns = controlledDns([one.host]);
  const lb = await startDnsBalancer(t, dns, one.port);
  assert.ok(lb.balancer.discovery);
  assert.equal(dns.lookups, 1, 'listen() resolves once before serving');
  await waitForUp(lb, [one.id]);
  assert.deepEqual(await idsOf(lb), [one.id]);

  two.healthy = false;
  dns.answer = [three.host, one.host, two.host];
  await lb.balancer.discovery.refresh();
  await lb.balancer.health.checkAll();
  const joined = await lb.status();
  assert.deepEqual(
    joined.backends.map((b) => [b.id, b.state]),
    [
      [one.id, 'up'],
      [two.id, 'unknown'],
      [three.id, 'up'],
    ],
  );
  const served = new Set<string>();
  for (let i = 0; i < 6; i++) served.add(String((await lb.client.get('/')).headers['x-backend']));
  assert.deepEqual(served, new Set([one.id, three.id]), 'no traffic to an address whose check has not passed');
  assert.equal(two.requests.length, 0);

  two.healthy = true;
  await lb.balancer.health.checkAll();
  const after: string[] = [];
  for (let i = 0; i < 6; i++) after.push(String((await lb.client.get('/')).headers['x-backend']));
  assert.equal(after.filter((id) => id === two.id).length, 2, `the new address takes its turn: ${after.join(' ')}`);
  assert.equal(new Set(after).size, 3);
  assert.equal(two.requests[0]?.localAddress, '127.0.0.2', 'the request really went to 127.0.0.2');
});

test('an address that disappears is drained: requests in flight finish, then it leaves', { timeout: 20_000 }, async (t) => {
  const backends = await startOnOnePort(t);
  if (!backends) return t.skip('127.0.0.2 is not a loopback address here');
  const [one, two] = backends as [FakeBackend, FakeBackend];
  const dns = controlledDns([one.host, two.host]);
  const lb = await startDnsBalancer(t, dns, one.port);
  assert.ok(lb.balancer.discovery);
  await waitForUp(lb, [one.id, two.id]);

  two.plan.push('hang');
  one.plan.push('ok');
  const pending = [lb.client.get('/slow'), lb.client.get('/slow')];
  await waitFor(() => two.heldCount === 1, { what: 'a request hanging on 127.0.0.2' });

  dns.answer = [one.host];
  await lb.balancer.discovery.refresh();
  const draining = await lb.status();
  const leaving = draining.backends.find((b) => b.id === two.id);
  assert.equal(leaving?.state, 'draining');
  assert.equal(leaving?.inFlight, 1);
  assert.equal(draining.totals['draining'], 1);

  const seenByTwo = two.requests.length;
  for (let i = 0; i < 4; i++) assert.equal((await lb.client.get('/')).headers['x-backend'], one.id);
  assert.equal(two.requests.length, seenByTwo, 'no new request reaches a draining address');

  two.releaseHeld();
  const replies = await Promise.all(pending);
  assert.deepEqual(replies.map((r) => r.status), [200, 200]);
  assert.deepEqual(new Set(replies.map((r) => r.headers['x-backend'])), new Set([one.id, two.id]), 'the request in flight finished on the draining address');

  await waitFor(async () => (await idsOf(lb)).length === 1, { what: 'the drained address to leave the pool' });
  assert.deepEqual(await idsOf(lb), [one.id]);

  // It can come back: a new member, checked again before it gets traffic.
  dns.answer = [one.host, two.host];
  await lb.balancer.discovery.refresh();
  await waitForStates(lb, { [two.id]: 'up' });
  const back = [await lb.client.get('/'), await lb.client.get('/')].map((r) => r.headers['x-backend']);
  assert.deepEqual(new Set(back), new Set([one.id, two.id]));
});

test('a failed look-up keeps the last known pool and is logged once', { timeout: 20_000 }, async (t) => {
  const backends = await startOnOnePort(t);
  if (!backends) return t.skip('127.0.0.2 is not a loopback address here');
  const [one, two] = backends as [FakeBackend, FakeBackend];
  const dns = controlledDns([one.host, two.host]);
  const lb = await startDnsBalancer(t, dns, one.port);
  assert.ok(lb.balancer.discovery);
  await waitForUp(lb, [one.id, two.id]);

  dns.answer = Object.assign(new Error('queryA ESERVFAIL web.internal'), { code: 'ESERVFAIL' });
  for (let i = 0; i < 3; i++) await lb.balancer.discovery.refresh();
  assert.equal(dns.lookups, 4);
  assert.deepEqual(await idsOf(lb), [one.id, two.id], 'the pool is kept');
  const served = [await lb.client.get('/'), await lb.client.get('/')];
  assert.deepEqual(served.map((r) => r.status), [200, 200]);
  assert.deepEqual(new Set(served.map((r) => r.headers['x-backend'])), new Set([one.id, two.id]));

  const failures = lb.logs.lines().filter((line) => /DNS look-up of web\.internal failed/.test(String(line['msg'])));
  assert.equal(failures.length, 1, 'logged once, not on every refresh');
  assert.equal(failures[0]?.['level'], 40, 'as a warning');
  assert.match(String(failures[0]?.['msg']), /keeping the last known 2 backend/);

  dns.answer = [one.host];
  await lb.balancer.discovery.refresh();
  const recovered = lb.logs.lines().filter((line) => /DNS look-up of web\.internal works again/.test(String(line['msg'])));
  assert.equal(recovered.length, 1);
  assert.equal((await lb.status()).backends.find((b) => b.id === two.id), undefined, 'the next answer applies again');

  // A new failure after recovery is news again: logged once more.
  dns.answer = new Error('timeout');
  await lb.balancer.discovery.refresh();
  await lb.balancer.discovery.refresh();
  assert.equal(lb.logs.lines().filter((line) => /DNS look-up of web\.internal failed/.test(String(line['msg']))).length, 2);
});

// Host-based routing through Docker: compose.yaml with compose.host-routing.yaml on top, as its
// header says to run it. Each host name reaches its own service's replicas in round robin (the
// api on the web image, the frontend a static site on nginx), other hosts the visit counter,
// and scaling one service is picked up without a restart.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createStack, get, lbStatus, pickPort, waitFor, type LbStatus } from './compose-stack.js';

const port = await pickPort(Number(process.env['E2E_HOSTS_HTTP_PORT'] ?? 8088));
const stack = createStack(port, { project: 'visit-counter-e2e-hosts', files: ['compose.yaml', 'compose.host-routing.yaml'] });

async function routes(): Promise<Record<string, LbStatus['routes'][number]>> {
  return Object.fromEntries((await lbStatus(port)).routes.map((route) => [route.route, route]));
}

/** Waits until the route for `name` has exactly `count` backends, all up. */
function upIn(name: string, count: number, timeoutMs: number): Promise<true> {
  return waitFor(`${count} backends up for ${name}`, async () => {
    const route = (await routes())[name];
    return route?.backends === count && route.up === count ? true : undefined;
  }, timeoutMs);
}

/** `count` requests with `host` as the Host header: the hostname each answer names. */
async function hostnames(host: string, count: number, pattern: RegExp): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const reply = await get(port, '/', 10_000, { host });
    assert.equal(reply.status, 200, `${host}: ${reply.body}`);
    const match = pattern.exec(reply.body);
    assert.ok(match, `${host} answered ${JSON.stringify(reply.body)}`);
    names.push(match[1] as string);
  }
  return names;
}

const API = /^Hi there fella, from the api on (\S+) \(visit \d+\)\n$/;
const FRONTEND = /<body> Hello from the frontend, served by (\S+)\. <\/body>/;
const WEB = /^I've been visited \d+ times, and my hostname is (\S+)\n$/;

before(async () => {
  await stack.compose('down', '-v', '--remove-orphans', '--timeout', '5');
  await stack.compose('build');
  await stack.compose('up', '-d');
  await Promise.all([upIn('api.app.dev', 2, 120_000), upIn('*.app.dev', 2, 120_000), upIn('*', 3, 120_000)]);
});

after(async () => {
  if (process.env['E2E_KEEP'] === '1') return;
  await stack.compose('down', '-v', '--remove-orphans', '--timeout', '10').catch(() => undefined);
});

test('each host name reaches its own service in round robin; other hosts the visit counter', async () => {
  const api = await hostnames('api.app.dev', 6, API);
  assert.equal(new Set(api).size, 2, `two api replicas take turns: ${api.join(' ')}`);
  assert.deepEqual(api.slice(2), api.slice(0, 4), 'in a fixed order');

  const frontend = await hostnames('app.app.dev', 4, FRONTEND);
  assert.equal(new Set(frontend).size, 2, `two frontend replicas take turns: ${frontend.join(' ')}`);
  assert.equal(new Set(await hostnames('www.app.dev', 2, FRONTEND)).size, 2, 'and for any other *.app.dev');
  assert.equal(new Set(await hostnames('localhost', 6, WEB)).size, 3, 'other hosts: the three web replicas');

  // The frontend is nginx, not the visit counter, and its answer says so.
  const page = await get(port, '/', 10_000, { host: 'app.app.dev' });
  assert.match(page.headers['content-type'] ?? '', /^text\/html/);
  assert.match(String(page.headers['server']), /^nginx/);

  // The api answers JSON when asked, as an API client asks.
  const json = await get(port, '/', 10_000, { host: 'api.app.dev', accept: 'application/json' });
  assert.equal(json.status, 200, json.body);
  const answer = JSON.parse(json.body) as { hostname: string; message: string; visits: number };
  assert.ok(api.includes(answer.hostname), `an api replica: ${json.body}`);
  assert.match(answer.message, /^Hi there fella/);
  assert.equal(answer.visits, 7);

  // Each counting service counts in its own key.
  assert.equal(await stack.counter('api-visits'), 7);
  assert.equal(await stack.counter('visits'), 6);
});

test('--scale api=4 is picked up without a restart, and only for api.app.dev', async () => {
  await stack.compose('up', '-d', '--no-recreate', '--scale', 'api=4');
  await upIn('api.app.dev', 4, 30_000);
  const api = await hostnames('api.app.dev', 8, API);
  assert.equal(new Set(api).size, 4, `four api replicas: ${api.join(' ')}`);
  assert.equal((await routes())['*.app.dev']?.backends, 2, 'the frontend keeps its two replicas');
});

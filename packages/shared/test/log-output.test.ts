// The logger: one JSON object per line with the service name, filtered by level;
// LOG_LEVEL and LOG_FORMAT are validated like every other variable. On stdout, a reader that
// falls behind holds the process back: lines never pile up in its memory, none is lost.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { createLogger, readLogOptions } from '@visit-counter/shared';
import { captureLogs } from '@visit-counter/shared/test-helpers';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

test('the logger writes one JSON line per entry with the name, level and message', () => {
  const logs = captureLogs();
  const logger = createLogger({ name: 'web', destination: logs.stream });
  logger.info({ port: 3000 }, 'listening on port %d', 3000);
  logger.warn('redis unreachable');
  const lines = logs.lines();
  assert.equal(lines.length, 2);
  assert.deepEqual(
    lines.map(({ name, level, msg, port }) => ({ name, level, msg, port })),
    [
      { name: 'web', level: 30, msg: 'listening on port 3000', port: 3000 },
      { name: 'web', level: 40, msg: 'redis unreachable', port: undefined },
    ],
  );
  assert.equal(typeof lines[0]?.['time'], 'number');
});

test('entries below the level are not written', () => {
  const logs = captureLogs();
  const logger = createLogger({ name: 'web', level: 'warn', destination: logs.stream });
  logger.debug('hidden');
  logger.info('hidden too');
  logger.error('shown');
  assert.deepEqual(logs.lines().map((line) => line['msg']), ['shown']);
});

test('readLogOptions defaults to info and JSON and rejects unknown values', () => {
  assert.deepEqual(readLogOptions({}), { level: 'info', format: 'json' });
  assert.deepEqual(readLogOptions({ LOG_LEVEL: 'DEBUG', LOG_FORMAT: 'pretty' }), { level: 'debug', format: 'pretty' });
  assert.throws(() => readLogOptions({ LOG_LEVEL: 'verbose' }), {
    name: 'ConfigError',
    message: 'LOG_LEVEL="verbose": expected one of fatal, error, warn, info, debug, trace, silent',
  });
  assert.throws(() => readLogOptions({ LOG_FORMAT: 'xml' }), { name: 'ConfigError', message: 'LOG_FORMAT="xml": expected one of json, pretty' });
});

/** Runs `body` in a child process whose logger writes pretty lines to the real stdout (a pipe); its lines. */
function prettyRun(body: string, env: NodeJS.ProcessEnv = {}, exitCode = 0): string[] {
  const script = `
    import { createLogger, writeAccessLine } from '@visit-counter/shared';
    const logger = createLogger({ name: 'web', format: 'pretty', level: 'debug' });
    ${body}
  `;
  const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: PACKAGE_DIR,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  assert.equal(child.status, exitCode, child.stderr);
  return child.stdout.trim().split('\n');
}

const TIME = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4}`;

test('the pretty format writes one human-readable line per entry to stdout', async (t) => {
  const cases: Array<{ name: string; body: string; line: RegExp; exitCode?: number }> = [
    {
      name: 'a message with its fields',
      body: `logger.info({ port: 3000 }, 'listening on port %d', 3000);`,
      line: new RegExp(String.raw`^\[${TIME}\] INFO \(web\): listening on port 3000 \{"port":3000\}$`),
    },
    {
      name: 'a message alone, at another level',
      body: `logger.warn('redis unreachable');`,
      line: new RegExp(String.raw`^\[${TIME}\] WARN \(web\): redis unreachable$`),
    },
    {
      name: 'an access line: what its message says is not repeated; the request id and the rest follow',
      body: `writeAccessLine(logger, 'info', { method: 'GET', path: '/', httpVersion: '1.1', status: 200, remoteAddress: '10.0.0.9', requestId: 'r-1', startedAt: process.hrtime.bigint(), fields: { backend: 'web:3000' } });`,
      line: new RegExp(String.raw`^\[${TIME}\] INFO \(web\): 10\.0\.0\.9 - - "GET / HTTP/1\.1" 200 \d+\.\dms \{"requestId":"r-1","backend":"web:3000"\}$`),
    },
    {
      name: 'another line keeps the fields an access line leaves out',
      body: `logger.warn({ path: '/ws', status: 502, requestId: 'r-2' }, 'upgrade refused');`,
      line: new RegExp(String.raw`^\[${TIME}\] WARN \(web\): upgrade refused \{"path":"/ws","status":502,"requestId":"r-2"\}$`),
    },
    {
      name: 'an error: still one line, with its type and message',
      body: `logger.error({ err: new TypeError('bad thing') }, 'it failed');`,
      line: new RegExp(String.raw`^\[${TIME}\] ERROR \(web\): it failed \{"err":\{"type":"TypeError","message":"bad thing","stack":"TypeError: bad thing\\n.*"\}\}$`),
    },
    {
      name: 'a message with line breaks stays one line',
      body: `logger.error('first\\nsecond');`,
      line: new RegExp(String.raw`^\[${TIME}\] ERROR \(web\): first\\nsecond$`),
    },
    {
      name: 'fields without a message',
      body: `logger.info({ a: 1 });`,
      line: new RegExp(String.raw`^\[${TIME}\] INFO \(web\): \{"a":1\}$`),
    },
    {
      name: 'the last line before process.exit still comes out',
      body: `logger.fatal('invalid configuration'); process.exit(1);`,
      line: new RegExp(String.raw`^\[${TIME}\] FATAL \(web\): invalid configuration$`),
      exitCode: 1,
    },
  ];
  for (const { name, body, line, exitCode } of cases) {
    await t.test(name, () => {
      const lines = prettyRun(body, {}, exitCode);
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0] ?? '', line);
    });
  }
});

test('the pretty format shows the local time with its offset, as docker compose logs read', async (t) => {
  const at = Date.UTC(2026, 10, 22, 20, 50, 1, 7);
  for (const [zone, shown] of [
    ['UTC', '2026-11-22 20:50:01.007 +0000'],
    ['Asia/Kolkata', '2026-11-23 02:20:01.007 +0530'],
    ['America/St_Johns', '2026-11-22 17:20:01.007 -0330'],
  ] as const) {
    await t.test(zone, () => {
      const lines = prettyRun(`Date.now = () => ${at}; logger.info('tick');`, { TZ: zone });
      assert.deepEqual(lines, [`[${shown}] INFO (web): tick`]);
    });
  }
});

test('a stdout reader that falls behind holds the logging process back; every line arrives, in order', async (t) => {
  const TURNS = 100;
  const PER_TURN = 400; // lines of about 250 bytes: 100 KB a turn, 10 MB in all, far more than stdout's buffer holds
  for (const format of ['json', 'pretty'] as const) {
    // Node makes fd 1 non-blocking once `process.stdout` is opened (tsx does it): a full buffer
    // then means EAGAIN; with a blocking fd the write waits in the kernel. Both are checked.
    for (const blocking of [true, false]) {
      await t.test(`${format}, ${blocking ? 'blocking' : 'non-blocking'} stdout`, async (st) => {
        const script = `
          import { readFileSync } from 'node:fs';
          import { createLogger } from '@visit-counter/shared';
          process.stdout._handle.setBlocking(${blocking});
          const flags = /flags:\\s*(\\d+)/.exec(readFileSync('/proc/self/fdinfo/1', 'utf8'))[1];
          process.stderr.write('non-blocking ' + ((parseInt(flags, 8) & 0o4000) !== 0) + '\\n');
          const logger = createLogger({ name: 'web', format: '${format}' });
          const filler = 'x'.repeat(150);
          let turn = 0;
          const next = () => {
            for (let i = 0; i < ${PER_TURN}; i++) logger.info({ n: turn * ${PER_TURN} + i }, filler);
            process.stderr.write('turn ' + ++turn + '\\n');
            if (turn < ${TURNS}) setImmediate(next);
          };
          next();
        `;
        const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
          cwd: PACKAGE_DIR,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        st.after(() => child.kill('SIGKILL'));
        const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
        let turns = 0;
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
          turns = Number(/turn (\d+)\n$/.exec(stderr)?.[1] ?? turns);
        });
        // Nobody reads stdout yet: once its buffer is full, the child must stop where it is.
        let seen = -1;
        const deadline = Date.now() + 20_000;
        while ((turns === 0 || turns !== seen) && Date.now() < deadline && child.exitCode === null) {
          seen = turns;
          await sleep(300);
        }
        assert.match(stderr, new RegExp(`^non-blocking ${!blocking}\\n`), 'stdout is in the mode this case is named for');
        assert.ok(turns >= 1 && turns === seen, `the child started logging, then stood still: ${stderr.slice(-200)}`);
        assert.ok(turns < TURNS, `with stdout unread, the child waits instead of going on to turn ${turns} of ${TURNS}`);

        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        assert.equal(await exited, 0, stderr);
        assert.equal(turns, TURNS);
        const lines = stdout.trimEnd().split('\n');
        assert.equal(lines.length, TURNS * PER_TURN);
        const numbers = lines.map((line) => Number(/"n":(\d+)/.exec(line)?.[1]));
        assert.ok(numbers.every((n, i) => n === i), 'every line arrived once and in order');
      });
    }
  }
});

test('two processes logging to one stdout (WORKERS) never cut into each other\'s lines', async (t) => {
  const LINES = 4000; // of about 1 KB each, 200 a turn, from each of two processes at once
  const writer = `
    import { createLogger } from '@visit-counter/shared';
    const logger = createLogger({ name: process.env.WHO });
    const filler = process.env.WHO.repeat(1000);
    let n = 0;
    const next = () => {
      for (let i = 0; i < 200; i++) logger.info({ n: n++ }, filler);
      if (n < ${LINES}) setImmediate(next);
    };
    next();
  `;
  const parent = `
    import { spawn } from 'node:child_process';
    for (const who of ['a', 'b']) {
      spawn(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', ${JSON.stringify(writer)}], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, WHO: who },
      });
    }
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', parent], { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close' comes once both writers, which hold the same stdout, have exited.
  await new Promise((resolve) => child.once('close', resolve));
  assert.equal(stderr, '');
  const lines = stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2 * LINES);
  const torn = lines.filter((line) => !/^\{"level":30,.*"name":"([ab])","n":\d+,"msg":"\1{1000}"\}$/.test(line));
  assert.deepEqual(torn.map((line) => line.slice(0, 120)), [], 'every line is whole');
});

// A TCP relay between the replica's Redis client and a real redis-server (not a test file
// itself), able to lose exactly what a Redis restart can lose: a reply Redis already sent, or a
// command Redis never read. The tests point REDIS_URL at it; nothing in Redis is faked.

import { createConnection, createServer, type Socket } from 'node:net';
import type { Cleanup } from '@visit-counter/shared/test-helpers';
import { waitFor } from './support.js';

export interface RedisRelay {
  readonly url: string;
  /** On the connections open now, Redis still runs every command but its replies are dropped. */
  loseReplies(): void;
  /** On the connections open now, the client's commands are kept back from Redis (see deliverLate). */
  holdCommands(): void;
  /** Resolves once the commands kept back contain `text`. */
  holding(text: string): Promise<void>;
  /** Closes every open connection, as a Redis restart does; later connections relay normally. */
  cut(): void;
  /** From now on every new connection is closed at once: Redis does not come back. */
  refuse(): void;
  /** Sends the commands kept back to Redis now, on a connection of their own; resolves with the raw reply. */
  deliverLate(): Promise<string>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  loseReplies: boolean;
  holdCommands: boolean;
}

export async function startRedisRelay(t: Cleanup, redisPort: number): Promise<RedisRelay> {
  const pairs = new Set<Pair>();
  let held = Buffer.alloc(0);
  let refusing = false;

  const server = createServer((client) => {
    client.on('error', () => undefined);
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: redisPort });
    upstream.on('error', () => undefined);
    const pair: Pair = { client, upstream, loseReplies: false, holdCommands: false };
    pairs.add(pair);
    const close = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('data', (chunk: Buffer) => {
      if (pair.holdCommands) held = Buffer.concat([held, chunk]);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.loseReplies) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) pair.client.destroy();
        server.close(() => resolve());
      }),
  );

  return {
    url: `redis://127.0.0.1:${port}`,
    loseReplies: () => pairs.forEach((pair) => (pair.loseReplies = true)),
    holdCommands: () => pairs.forEach((pair) => (pair.holdCommands = true)),
    holding: (text) => waitFor(`the relay to hold back ${JSON.stringify(text)}`, () => held.includes(text)),
    cut: () => pairs.forEach((pair) => pair.client.destroy()),
    refuse: () => (refusing = true),
    deliverLate: () =>
      new Promise((resolve, reject) => {
        const socket = createConnection({ host: '127.0.0.1', port: redisPort }, () => socket.write(held));
        socket.once('error', reject);
        socket.once('data', (reply: Buffer) => {
          socket.destroy();
          resolve(reply.toString('latin1'));
        });
      }),
  };
}

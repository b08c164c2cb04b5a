// A backend at the byte level, for tests that must see exactly what reaches a backend: it
// answers health checks (`GET /readyz`) like the fake backend, and on any other request head
// records every byte its connection brings from there on and answers with `answer`.

import { createServer, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

export interface RawBackend {
  id: string;
  /** Per connection that carried a request other than a health check: every byte from its head on. */
  readonly received: string[];
  /** Such connections still open. */
  readonly open: Set<Socket>;
}

export async function startRawBackend(t: TestContext, answer: string): Promise<RawBackend> {
  const received: string[] = [];
  const open = new Set<Socket>();
  const all = new Set<Socket>();
  const server = createServer((socket) => {
    all.add(socket);
    socket.once('close', () => all.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = '';
    let index = -1;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      if (index !== -1) {
        received[index] += chunk;
        return;
      }
      buffered += chunk;
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1 && index === -1; end = buffered.indexOf('\r\n\r\n')) {
        if (buffered.startsWith('GET /readyz ')) {
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nready\n');
          buffered = buffered.slice(end + 4);
          continue;
        }
        index = received.push(buffered) - 1;
        open.add(socket);
        socket.once('close', () => open.delete(socket));
        socket.once('end', () => socket.end());
        socket.write(answer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.close();
    for (const socket of all) socket.destroy();
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('the raw backend has no address');
  return { id: `127.0.0.1:${address.port}`, received, open };
}

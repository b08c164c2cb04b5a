// A real web replica in this process, for the tests of the whole topology: its own name, the
// given Redis, port 0, logs captured; closed after the test.

import type { TestContext } from 'node:test';
import { createLogger } from '@visit-counter/shared';
import { captureLogs } from '@visit-counter/shared/test-helpers';
import { loadWebConfig } from '@visit-counter/web/config';
import { createWebService, type WebService } from '@visit-counter/web/service';

export async function startReplica(
  t: TestContext,
  name: string,
  redisUrl: string,
  env: Record<string, string> = {},
): Promise<{ id: string; service: WebService }> {
  // A Redis deadline well above the 250 ms default: one slow reply on a busy test machine must
  // not turn into a 503 here.
  const config = loadWebConfig({ PORT: '0', HOST: '127.0.0.1', REDIS_URL: redisUrl, INSTANCE_NAME: name, REDIS_TIMEOUT_MS: '2000', ...env }, 'not-this-hostname');
  const service = createWebService(config, createLogger({ name, destination: captureLogs().stream }));
  t.after(() => service.close());
  const port = await service.listen();
  return { id: `127.0.0.1:${port}`, service };
}

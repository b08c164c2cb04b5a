// Entry point of a web replica: the only place that reads the environment, listens and
// traps signals.

import { hostname } from 'node:os';
import { ConfigError, createLogger } from '@visit-counter/shared';
import { loadWebConfig, type WebConfig } from './config.js';
import { createWebService } from './service.js';

let config: WebConfig;
try {
  config = loadWebConfig(process.env, hostname());
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`web: invalid configuration: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger({ name: 'web', level: config.logLevel, format: config.logFormat });
const service = createWebService(config, logger);

try {
  await service.listen();
} catch (error) {
  logger.fatal({ err: error }, 'web replica could not listen on port %d', config.port);
  process.exit(1);
}

const shutdown = (signal: string): void => {
  logger.info({ signal }, 'shutting down: finishing requests in flight');
  service.close().then(
    () => {
      logger.info('stopped');
      process.exit(0);
    },
    (error: unknown) => {
      logger.error({ err: error }, 'error while shutting down');
      process.exit(1);
    },
  );
};
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));

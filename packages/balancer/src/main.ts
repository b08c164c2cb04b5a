// Entry point of the balancer: the only place that reads the environment, listens and
// traps signals.

import { ConfigError, createLogger } from '@visit-counter/shared';
import { createBalancer } from './balancer.js';
import { loadBalancerConfig, type BalancerConfig } from './config.js';

let config: BalancerConfig;
try {
  config = loadBalancerConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`balancer: invalid configuration: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger({ name: 'balancer', level: config.logLevel, format: config.logFormat });
const balancer = createBalancer(config, { logger });

try {
  await balancer.listen();
} catch (error) {
  logger.fatal({ err: error }, 'balancer could not listen on port %d', config.port);
  process.exit(1);
}

const shutdown = (signal: string): void => {
  logger.info({ signal }, 'shutting down: finishing requests in flight');
  balancer.close().then(
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

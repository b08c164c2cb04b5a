// Entry point of the balancer: the only place that reads the environment, listens and
// traps signals. With WORKERS > 1 the first process forks that many workers sharing the port.

import cluster from 'node:cluster';
import { ConfigError, createLogger } from '@visit-counter/shared';
import { createBalancer, type Balancer } from './balancer.js';
import { connectWorker, runPrimary } from './cluster.js';
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

if (config.workers > 1 && cluster.isPrimary) {
  runPrimary(config.workers, logger);
} else {
  let balancer: Balancer | undefined;
  const link = cluster.isWorker
    ? connectWorker({
        status: () => ({ ...balancer?.status(), worker: cluster.worker?.id, pid: process.pid }),
        setDrained: (id, drained) => balancer?.setDrained(id, drained),
      })
    : undefined;
  balancer = createBalancer(config, { logger, ...(link ? { cluster: link } : {}) });
  const running = balancer;

  try {
    await running.listen();
  } catch (error) {
    logger.fatal({ err: error }, 'balancer could not listen on port %d', config.port);
    process.exit(1);
  }

  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    running.close().then(
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
}

// Entry point of the balancer: the only place that reads the environment, listens and
// traps signals. With WORKERS > 1 the first process forks that many workers sharing the port.

import cluster from 'node:cluster';
import { createLogger, loadConfigOrExit, serveUntilSignal } from '@visit-counter/shared';
import { createBalancer, type Balancer } from './balancer.js';
import { runPrimary } from './cluster-primary.js';
import { connectWorker } from './cluster-worker.js';
import { BALANCER_DEFAULTS, loadBalancerConfig } from './config.js';
import { portSharing } from './port-sharing.js';

const config = loadConfigOrExit('balancer', () => loadBalancerConfig(process.env));
const logger = createLogger({ name: 'balancer', level: config.logLevel, format: config.logFormat });
const sharing = portSharing(config.workers, config.port, process.versions.node, process.platform);

if (config.workers > 1 && cluster.isPrimary) {
  runPrimary({
    workers: config.workers,
    sharing,
    logger,
    crashLoop: { exits: BALANCER_DEFAULTS.workerExitLimit, windowMs: BALANCER_DEFAULTS.workerExitWindowMs },
  });
} else {
  let balancer: Balancer | undefined;
  const link = cluster.isWorker
    ? connectWorker(
        {
          status: () => ({ ...balancer?.status(), pid: process.pid }),
          setDrained: (id, drained) => balancer?.setDrained(id, drained),
        },
        logger,
      )
    : undefined;
  balancer = createBalancer(config, { logger, portSharing: sharing, ...(link ? { cluster: link } : {}) });
  await serveUntilSignal(link ? link.supervise(balancer) : balancer, logger, config.port);
}

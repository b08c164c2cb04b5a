// Entry point of a web replica: the only place that reads the environment, listens and
// traps signals.

import { hostname } from 'node:os';
import { createLogger, loadConfigOrExit, serveUntilSignal } from '@visit-counter/shared';
import { loadWebConfig } from './config.js';
import { createWebService } from './service.js';

const config = loadConfigOrExit('web', () => loadWebConfig(process.env, hostname()));
const logger = createLogger({ name: 'web', level: config.logLevel, format: config.logFormat });
await serveUntilSignal(createWebService(config, logger), logger, config.port);

// What every service's main.ts does with its process: refuse to start on a bad configuration
// (exit 1, one line naming the variable), and serve until SIGTERM or SIGINT, then close
// gracefully and exit 0.

import type { Logger } from 'pino';
import { ConfigError, VisitCounterError } from './errors.js';

/** Runs `load`; on a ConfigError prints `service: invalid configuration: ...` and exits 1. */
export function loadConfigOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${service}: invalid configuration: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

export interface Service {
  listen(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Listens (exit 1 when the port cannot be had) and closes gracefully on SIGTERM or SIGINT,
 * from the start: a signal while it is still starting closes it too.
 * A repeated signal while closing is logged and changes nothing: the requests in flight still
 * finish, within the grace period (Node's default would kill the process at once and cut them).
 */
export async function serveUntilSignal(service: Service, logger: Logger, port: number): Promise<void> {
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'already shutting down: requests in flight still finish (SIGKILL stops at once)');
      return;
    }
    stopping = true;
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
  // Before listen(), which can take a while after the port is had (the balancer's extra accept
  // handles): a signal meanwhile would otherwise end the process at once, mid-answer.
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await service.listen();
  } catch (error) {
    // A ListenError is one sentence naming HOST and PORT: it is the line's message.
    if (error instanceof VisitCounterError) logger.fatal({ err: error }, error.message);
    else logger.fatal({ err: error }, 'could not listen on port %d', port);
    process.exit(1);
  }
}

// Errors with stable codes. Every error a client may see carries an HTTP status and
// a message that is one plain sentence; `code` is what logs and tests match on.

export class VisitCounterError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** A bad environment variable at start-up: the process prints the message and exits 1. */
export class ConfigError extends VisitCounterError {
  readonly variable: string;

  constructor(variable: string, value: string, expected: string) {
    super('CONFIG_INVALID', 500, `${variable}=${JSON.stringify(value)}: expected ${expected}`);
    this.variable = variable;
  }
}

const LISTEN_REASONS: Record<string, string> = {
  EADDRINUSE: 'another process already listens on that port',
  EADDRNOTAVAIL: 'that address does not belong to this machine',
  EACCES: 'this process may not use that port',
  ENOTFOUND: 'that host name does not resolve',
  EAI_AGAIN: 'that host name could not be resolved',
};

/** The server could not listen: the sentence names HOST and PORT, and why in plain words (no
 * `cause`: the log would append Node's own message to the sentence). */
export class ListenError extends VisitCounterError {
  /** `who`: the subject of the sentence (`The replica`, `The balancer`); `code`: the service's stable code. */
  constructor(who: string, code: string, host: string | undefined, port: number, cause: unknown) {
    const errno = (cause as NodeJS.ErrnoException).code ?? '';
    const reason = LISTEN_REASONS[errno] ?? (cause as Error).message;
    const where = host === undefined ? `PORT=${port} (HOST unset: all addresses)` : `HOST=${host} PORT=${port}`;
    super(code, 500, `${who} cannot listen on ${where}: ${reason}${errno === '' ? '' : ` (${errno})`}.`);
  }
}

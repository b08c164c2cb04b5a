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

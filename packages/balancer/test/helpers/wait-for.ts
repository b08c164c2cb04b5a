// Polling with a deadline: tests wait for a condition (a backend is up, a request arrived)
// instead of sleeping for a guessed time.

export interface WaitOptions {
  /** Give up after this long, in ms. */
  timeoutMs?: number;
  /** Pause between attempts, in ms. */
  intervalMs?: number;
  /** Says what was awaited, for the failure message. */
  what?: string;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it returns a value other than false/undefined/null, and returns that
 * value. A probe that throws counts as "not yet"; the last error is reported on time-out.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, options: WaitOptions = {}): Promise<Exclude<T, false | undefined | null>> {
  const { timeoutMs = 5_000, intervalMs = 10, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== false && value !== undefined && value !== null) return value as Exclude<T, false | undefined | null>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await pause(intervalMs);
  }
}

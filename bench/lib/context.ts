// What every scenario gets: the options, which tools are installed, a private temporary
// directory, the load settings and a log line writer.

import type { BenchOptions } from './options.js';
import type { LoadSettings } from './rounds.js';
import type { Runtime } from './topology.js';

export interface Tools {
  wrk: string | undefined;
  nginx: string | undefined;
  haproxy: string | undefined;
  redis: string | undefined;
}

export interface BenchContext {
  options: BenchOptions;
  tools: Tools;
  tmp: string;
  /** Where the services run from, BENCH_RUNTIME resolved. */
  runtime: Runtime;
  /** How the BENCH_COMPARE_ROOT balancer runs (its own dist/ when current there), if one is given. */
  compareRuntime: Runtime | undefined;
  /** The comparison runs' load: options.connections on the chosen generator. */
  settings: LoadSettings;
  log(line: string): void;
  /** Things left out and why, printed under the table (`skipped: nginx not installed`). */
  skipped: string[];
}

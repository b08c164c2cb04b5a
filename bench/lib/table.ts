// The table printed at the end: one line per scenario and system, fixed-width columns.

import type { Row } from './rounds.js';

const COLUMNS = ['scenario', 'system', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'sock err', 'timeouts', 'non-2xx', 'ratio', 'CPU µs/req', 'exact'] as const;

function cells(row: Row): string[] {
  return [
    row.scenario,
    row.system,
    String(row.rps),
    row.p50Ms.toFixed(2),
    row.p99Ms.toFixed(2),
    row.maxMs.toFixed(1),
    String(row.socketErrors),
    String(row.timeouts),
    String(row.non2xx),
    row.ratio === undefined ? '-' : `${row.ratio.toFixed(2)}x${row.ratioTo?.includes('hello') ? ' of hello' : ''}`,
    row.cpuUsPerRequest === undefined ? '-' : String(row.cpuUsPerRequest),
    row.exact ?? '-',
  ];
}

export function formatTable(rows: readonly Row[]): string {
  const body = rows.map(cells);
  const widths = COLUMNS.map((name, i) => Math.max(name.length, ...body.map((line) => (line[i] as string).length)));
  const numeric = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const format = (line: readonly string[]): string =>
    line.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [format(COLUMNS), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(format)].join('\n');
}

/** The same rows as a Markdown table, for bench/README-notes.md and the README. */
export function formatMarkdown(rows: readonly Row[]): string {
  const header = `| ${COLUMNS.join(' | ')} |`;
  const rule = `| ${COLUMNS.map((_, i) => (i >= 2 && i <= 10 ? '---:' : '---')).join(' | ')} |`;
  return [header, rule, ...rows.map((row) => `| ${cells(row).join(' | ')} |`)].join('\n');
}

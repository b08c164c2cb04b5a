// LOG_FORMAT=pretty: one readable line per entry, as `docker compose logs` shows it:
//
//   [2026-11-22 20:50:01.123 +0000] INFO (web): 172.18.0.5 - - "GET / HTTP/1.1" 200 1.2ms {"backend":"web:3000"}
//
// pino writes its JSON line; this turns it back into text. pino-pretty did the same, but at a
// cost that doubled the balancer's CPU per proxied request with access lines on (it is built
// for every case: colours, templates, multi-line objects). A line here costs one JSON.parse and
// a few string joins.

/** Fields the line shows elsewhere (the time, level, name and message), or that an access line's message already says. */
const SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'method', 'path', 'status', 'durationMs', 'remoteAddress', 'requestId']);

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One pino JSON line as readable text (with its newline); a line that is not JSON is kept as it is. */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = typeof entry['level'] === 'number' ? (LEVELS[entry['level']] ?? 'USERLVL') : String(entry['level']);
  const time = typeof entry['time'] === 'number' ? localTime(entry['time']) : '-';
  const name = entry['name'] === undefined ? '' : ` (${String(entry['name'])})`;
  let rest: Record<string, unknown> | undefined;
  for (const key in entry) {
    if (SHOWN.has(key)) continue;
    rest ??= {};
    rest[key] = entry[key];
  }
  const message = entry['msg'] === undefined ? '' : String(entry['msg']);
  return `[${time}] ${level}${name}: ${message}${rest ? ` ${JSON.stringify(rest)}` : ''}\n`;
}

/** `yyyy-mm-dd HH:MM:ss.lll +hhmm` in the machine's time zone (pino-pretty's `SYS:standard`). */
export function localTime(epochMs: number): string {
  const d = new Date(epochMs);
  const offset = -d.getTimezoneOffset();
  const abs = Math.abs(offset);
  const zone = `${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}${pad(abs % 60, 2)}`;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1, 2)}-${pad(d.getDate(), 2)} ` +
    `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)} ${zone}`
  );
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

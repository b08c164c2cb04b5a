// LOG_FORMAT=pretty: one readable line per entry, as `docker compose logs` shows it:
//
//   [2026-11-22 20:50:01.123 +0000] INFO (balancer): 172.18.0.5 - - "GET / HTTP/1.1" 200 1.2ms {"requestId":"...","backend":"web:3000"}
//
// pino writes its JSON line; this turns it back into text. pino-pretty did the same, but at a
// cost that doubled the balancer's CPU per proxied request with access lines on (it is built
// for every case: colours, templates, multi-line objects). A line here costs one JSON.parse and
// a few string joins.

/** Fields the line shows in its own places: time, level, name and message. */
const SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);
/** Fields an access line's message already says (`addr - - "GET / HTTP/1.1" 200 1.2ms`). */
const IN_ACCESS_MESSAGE = ['method', 'path', 'status', 'durationMs', 'remoteAddress'];

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One pino JSON line as readable text (with its newline); a line that is not a JSON object is kept as it is. */
export function prettyLine(json: string): string {
  let entry: unknown;
  try {
    entry = JSON.parse(json);
  } catch {
    entry = undefined;
  }
  if (typeof entry !== 'object' || entry === null) return json.endsWith('\n') ? json : `${json}\n`;
  const fields = entry as Record<string, unknown>;
  const level = typeof fields['level'] === 'number' ? (LEVELS[fields['level']] ?? 'USERLVL') : String(fields['level']);
  const time = typeof fields['time'] === 'number' ? localTime(fields['time']) : '-';
  const name = fields['name'] === undefined ? '' : ` (${String(fields['name'])})`;
  const access = IN_ACCESS_MESSAGE.every((key) => key in fields);
  let rest: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    if (SHOWN.has(key) || (access && IN_ACCESS_MESSAGE.includes(key))) continue;
    rest ??= Object.create(null) as Record<string, unknown>; // a field named __proto__ stays a field
    rest[key] = fields[key];
  }
  // One entry, one line: a message's own line breaks are written as \n.
  const message = fields['msg'] === undefined ? '' : ` ${String(fields['msg']).replace(/\r?\n|\r/g, '\\n')}`;
  return `[${time}] ${level}${name}:${message}${rest ? ` ${JSON.stringify(rest)}` : ''}\n`;
}

/** `yyyy-mm-dd HH:MM:ss.lll +hhmm` in the machine's time zone (pino-pretty's `SYS:standard`). */
function localTime(epochMs: number): string {
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

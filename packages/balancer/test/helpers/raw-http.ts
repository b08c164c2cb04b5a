// Reads HTTP/1.1 answers off a raw byte stream, for tests that send exact bytes: status,
// headers (names lower-cased) and the body, de-chunked, so two servers' answers compare
// by what they mean rather than how they were framed.

export interface RawAnswer {
  status: number;
  headers: Map<string, string[]>;
  body: string;
}

/**
 * Splits `data` into answers; `bodyless[i]` says answer i has no body (a HEAD request). With
 * `partial`, bytes still arriving are fine: only the answers complete so far come back.
 */
export function parseAnswers(data: Buffer, bodyless: readonly boolean[] = [], partial = false): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', at);
    if (headEnd === -1 && partial) break;
    if (headEnd === -1) throw new Error(`an incomplete head: ${JSON.stringify(data.subarray(at).toString('latin1'))}`);
    const [statusLine = '', ...lines] = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1]);
    if (!Number.isInteger(status)) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const headers = new Map<string, string[]>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    at = headEnd + 4;
    let body: Buffer = Buffer.alloc(0);
    const length = headers.get('content-length')?.[0];
    if (bodyless[answers.length] || status === 204 || status === 304) {
      // no body
    } else if (headers.get('transfer-encoding')?.[0] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const sizeEnd = data.indexOf('\r\n', at);
        const size = sizeEnd === -1 ? NaN : parseInt(data.subarray(at, sizeEnd).toString('latin1'), 16);
        if (Number.isNaN(size) || sizeEnd + 2 + size + 2 > data.length) {
          // Cut short (or not arrived yet): never loop on it.
          if (partial) return answers;
          throw new Error(`an incomplete chunked body: ${JSON.stringify(data.subarray(at).toString('latin1'))}`);
        }
        at = sizeEnd + 2;
        if (size === 0) {
          at += 2;
          break;
        }
        parts.push(data.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (length !== undefined) {
      if (partial && at + Number(length) > data.length) break;
      body = data.subarray(at, at + Number(length));
      at += Number(length);
    } else {
      body = data.subarray(at); // read to the end of the connection
      at = data.length;
    }
    answers.push({ status, headers, body: body.toString('utf8') });
  }
  return answers;
}

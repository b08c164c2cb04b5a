// Writing a whole response in one call, and the error response every service shares:
// one plain sentence, in the format the client asked for, with the error's stable code.

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { renderMessage, type Rendered } from './format.js';
import { negotiateFormat } from './negotiate.js';

export function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  rendered: Rendered,
  headers: OutgoingHttpHeaders = {},
): void {
  const body = Buffer.from(rendered.body);
  res.writeHead(status, {
    ...headers,
    'content-type': rendered.contentType,
    'content-length': body.length,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  const format = negotiateFormat(req.headers.accept);
  const rendered = renderMessage(message, format, { code }, 'error');
  send(req, res, status, rendered, { 'cache-control': 'no-store', ...headers });
}

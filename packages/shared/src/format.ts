// The visit message in the three formats a client may ask for. The text wording is a
// template so that each of the wordings the README lists can be had by configuration.

import type { ResponseFormat } from './negotiate.js';

export const DEFAULT_MESSAGE_TEMPLATE = "I've been visited {visits} times, and my hostname is {hostname}";

export const TEMPLATE_FIELDS = ['visits', 'instanceVisits', 'hostname', 'port'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

export interface Visit {
  /** Cumulative visits across every replica: this visit's own number. */
  visits: number;
  /** Visits answered by this replica since it started, this one included. */
  instanceVisits: number;
  hostname: string;
  port: number;
}

export type MessageTemplate = (visit: Visit) => string;

export class TemplateError extends Error {
  readonly code = 'TEMPLATE_INVALID';
}

/** Compiles `{field}` placeholders once; an unknown field is an error at start-up, not per request. */
export function compileTemplate(template: string): MessageTemplate {
  const parts: Array<string | TemplateField> = [];
  const fields: boolean[] = [];
  const pattern = /\{([^{}]*)\}/g;
  let last = 0;
  for (let match = pattern.exec(template); match !== null; match = pattern.exec(template)) {
    const name = match[1] ?? '';
    if (!(TEMPLATE_FIELDS as readonly string[]).includes(name)) {
      throw new TemplateError(`unknown placeholder {${name}}; use ${TEMPLATE_FIELDS.map((f) => `{${f}}`).join(', ')}`);
    }
    parts.push(template.slice(last, match.index));
    fields.push(false);
    parts.push(name as TemplateField);
    fields.push(true);
    last = match.index + match[0].length;
  }
  parts.push(template.slice(last));
  fields.push(false);
  return (visit) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      out += fields[i] ? String(visit[part as TemplateField]) : part;
    }
    return out;
  };
}

/** The content type of each format's answers. */
export const CONTENT_TYPES: Readonly<Record<ResponseFormat, string>> = {
  text: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

export interface Rendered {
  contentType: string;
  body: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function htmlPage(title: string, message: string): string {
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>' +
    escapeHtml(title) +
    '</title></head>\n<body><p>' +
    escapeHtml(message) +
    '</p></body>\n</html>\n'
  );
}

export function renderVisit(visit: Visit, format: ResponseFormat, template: MessageTemplate): Rendered {
  const message = template(visit);
  switch (format) {
    case 'json':
      return {
        contentType: CONTENT_TYPES.json,
        body: JSON.stringify({ message, visits: visit.visits, instanceVisits: visit.instanceVisits, hostname: visit.hostname }) + '\n',
      };
    case 'html':
      return { contentType: CONTENT_TYPES.html, body: htmlPage('visit-counter', message) };
    default:
      return { contentType: CONTENT_TYPES.text, body: message + '\n' };
  }
}

/** A short message (an error, a hostname, a date) in the client's format; JSON puts it under `key`. */
export function renderMessage(message: string, format: ResponseFormat, extra: Record<string, unknown> = {}, key = 'message'): Rendered {
  switch (format) {
    case 'json':
      return { contentType: CONTENT_TYPES.json, body: JSON.stringify({ [key]: message, ...extra }) + '\n' };
    case 'html':
      return { contentType: CONTENT_TYPES.html, body: htmlPage('visit-counter', message) };
    default:
      return { contentType: CONTENT_TYPES.text, body: message + '\n' };
  }
}

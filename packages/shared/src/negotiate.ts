// Content negotiation: which of our three formats a client asked for in `Accept`.
// No header, or one that accepts anything, means plain text (what curl shows).

export type ResponseFormat = 'text' | 'json' | 'html';

const MEDIA_TYPES: ReadonlyArray<readonly [ResponseFormat, string]> = [
  ['text', 'text/plain'],
  ['json', 'application/json'],
  ['html', 'text/html'],
];

interface Range {
  type: string;
  subtype: string;
  q: number;
  order: number;
}

function parseAccept(header: string): Range[] {
  const ranges: Range[] = [];
  header.split(',').forEach((part, order) => {
    const [media, ...params] = part.trim().split(';');
    const [type, subtype] = (media ?? '').trim().toLowerCase().split('/');
    if (!type || !subtype) return;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.trim().split('=');
      if (key?.trim().toLowerCase() === 'q' && value !== undefined) {
        const parsed = Number(value.trim());
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      }
    }
    ranges.push({ type, subtype, q, order });
  });
  return ranges;
}

function quality(ranges: Range[], mediaType: string): { q: number; specificity: number; order: number } {
  const [type, subtype] = mediaType.split('/');
  let best = { q: -1, specificity: -1, order: Infinity };
  for (const range of ranges) {
    let specificity: number;
    if (range.type === type && range.subtype === subtype) specificity = 2;
    else if (range.type === type && range.subtype === '*') specificity = 1;
    else if (range.type === '*' && range.subtype === '*') specificity = 0;
    else continue;
    if (specificity > best.specificity) best = { q: range.q, specificity, order: range.order };
  }
  return best;
}

export function negotiateFormat(accept: string | undefined): ResponseFormat {
  if (accept === undefined || accept.trim() === '') return 'text';
  const ranges = parseAccept(accept);
  let chosen: ResponseFormat = 'text';
  let chosenQ = -1;
  let chosenOrder = Infinity;
  for (const [format, mediaType] of MEDIA_TYPES) {
    const { q, order, specificity } = quality(ranges, mediaType);
    // A wildcard alone never outranks an explicit type at the same quality.
    const effectiveOrder = specificity === 0 ? Infinity : order;
    if (q > chosenQ || (q === chosenQ && q > 0 && effectiveOrder < chosenOrder)) {
      chosen = format;
      chosenQ = q;
      chosenOrder = effectiveOrder;
    }
  }
  return chosenQ <= 0 ? 'text' : chosen;
}

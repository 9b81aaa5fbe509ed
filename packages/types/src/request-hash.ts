import { hash } from 'node:crypto';
import { boundedMemo } from './bounded-memo.js';

/**
 * Serialises a JSON value with object keys sorted (by UTF-16 code unit), no whitespace, so
 * two values that differ only in key order give the same string.
 *
 * Follows `JSON.stringify` for everything else: `undefined`, functions and symbols are left
 * out of objects and become `null` in arrays, non-finite numbers become `null`, `toJSON` is
 * honoured.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }); // '{"a":[2,{"c":4,"d":3}],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  const text = serialise(value, new Set());
  // Like JSON.stringify(undefined): there is nothing to write, but the result must be a string.
  return text ?? 'null';
}

function serialise(input: unknown, seen: Set<object>): string | undefined {
  let value = input;
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  const object = value as object;
  if (seen.has(object)) {
    throw new TypeError('canonicalJson: cannot serialise a circular structure');
  }
  seen.add(object);
  let text: string;
  if (Array.isArray(object)) {
    text = `[${object.map((item) => serialise(item, seen) ?? 'null').join(',')}]`;
  } else {
    const record = object as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const serialised = serialise(record[key], seen);
      if (serialised !== undefined) parts.push(`${JSON.stringify(key)}:${serialised}`);
    }
    text = `{${parts.join(',')}}`;
  }
  seen.delete(object);
  return text;
}

/**
 * Reduces a URL to what identifies the endpoint: origin + path, with the query parameters
 * sorted (by name, then value) and the fragment dropped. Scheme and host are lower-cased and
 * default ports removed (WHATWG URL rules). A relative URL (`/v1/responses?b=1&a=2`) keeps
 * its path and sorted query.
 *
 * @example
 * ```ts
 * normalizeUrl('HTTPS://API.Opper.ai:443/v2/call/stream?b=2&a=1#x');
 * // 'https://api.opper.ai/v2/call/stream?a=1&b=2'
 * ```
 */
export function normalizeUrl(url: string): string {
  return keptNormalizedUrls(url);
}

// A recorder or replayer sees the same few endpoints over and over; parsing each URL again
// cost ~10 µs a request.
const keptNormalizedUrls = boundedMemo(256, normalizeUncached);

function normalizeUncached(url: string): string {
  let parsed: URL;
  let relative = false;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL(url, 'http://relative.invalid');
    relative = true;
  }
  const entries = [...parsed.searchParams.entries()].sort(([nameA, valueA], [nameB, valueB]) =>
    nameA < nameB ? -1 : nameA > nameB ? 1 : valueA < valueB ? -1 : valueA > valueB ? 1 : 0,
  );
  const query = entries.length > 0 ? `?${new URLSearchParams(entries).toString()}` : '';
  const base = relative ? '' : parsed.origin === 'null' ? `${parsed.protocol}` : parsed.origin;
  return `${base}${parsed.pathname}${query}`;
}

/**
 * Request-body fields left out of {@link requestHash} by default. Each one changes from run to
 * run (or user to user) without changing what the model is asked, so a replay would never
 * match if they counted:
 * - `user`: the end user's id (OpenAI / OpenRouter); differs per caller, not per prompt.
 * - `metadata`: the caller's own bookkeeping (request ids, trace ids); never sent to the model.
 * - `prompt_cache_key`: a cache-routing hint, often per session.
 * - `safety_identifier`: a hashed end-user id for abuse monitoring.
 * - `parent_span_id`: Opper's parent trace span, new on every run.
 *
 * Only top-level fields are removed. Pass `ignoreBodyFields` to replace the list, e.g.
 * `[...DEFAULT_IGNORED_BODY_FIELDS, 'tags']`.
 */
export const DEFAULT_IGNORED_BODY_FIELDS: readonly string[] = Object.freeze([
  'user',
  'metadata',
  'prompt_cache_key',
  'safety_identifier',
  'parent_span_id',
]);

/** The parts of a request that {@link requestHash} looks at. */
export interface RequestHashInput {
  /** HTTP method; compared case-insensitively. */
  method: string;
  /** Absolute (or path-only) URL; see {@link normalizeUrl}. */
  url: string;
  /**
   * The body: text (JSON is canonicalised, anything else is hashed as is), bytes (decoded as
   * UTF-8), an already-parsed JSON value, or `null`/`undefined` for none.
   */
  body?: string | Uint8Array | null | Record<string, unknown> | unknown[];
}

/** Options for {@link requestHash}. */
export interface RequestHashOptions {
  /**
   * Top-level body fields to leave out when the body is a JSON object. A name with dots
   * (`input.0.id`) removes a nested field. Replaces {@link DEFAULT_IGNORED_BODY_FIELDS}.
   */
  ignoreBodyFields?: readonly string[];
}

/**
 * A stable hash of a request for matching recordings to replays: SHA-256 (hex) over the
 * upper-cased method, the {@link normalizeUrl normalised URL} and the body — as
 * {@link canonicalJson} with ignored fields removed when it is JSON, otherwise the raw text.
 * Headers never count.
 *
 * @example
 * ```ts
 * const a = requestHash({ method: 'post', url: 'https://x.test/v1/responses', body: '{"b":1,"a":2,"user":"u1"}' });
 * const b = requestHash({ method: 'POST', url: 'https://x.test/v1/responses', body: '{"a":2,"b":1,"user":"u2"}' });
 * a === b; // true
 * ```
 */
export function requestHash(
  { method, url, body }: RequestHashInput,
  { ignoreBodyFields = DEFAULT_IGNORED_BODY_FIELDS }: RequestHashOptions = {},
): string {
  // One call: a Hash object per request costs a few µs more. The parts are joined by '\n', so
  // the text encodes exactly as the parts did one by one.
  return hash(
    'sha256',
    `${method.toUpperCase()}\n${normalizeUrl(url)}\n${bodyKey(body, ignoreBodyFields)}`,
    'hex',
  );
}

const textDecoder = new TextDecoder();

function bodyKey(body: RequestHashInput['body'], ignoreBodyFields: readonly string[]): string {
  if (body === null || body === undefined) return '';
  let value: unknown = body;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const text = typeof body === 'string' ? body : textDecoder.decode(body);
    const trimmed = text.trimStart();
    // Only bodies that look like a JSON object or array are canonicalised; "123" stays text.
    if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return text;
    try {
      value = JSON.parse(text);
    } catch {
      return text;
    }
  }
  return canonicalJson(omitFields(value, ignoreBodyFields));
}

/**
 * Returns `value` without the fields at the given dotted paths (`metadata`, `input.0.id`).
 * Copies along each path only, so the caller's object is never mutated.
 */
export function omitFields(value: unknown, fields: readonly string[]): unknown {
  if (fields.length === 0 || value === null || typeof value !== 'object') return value;
  let result: unknown = value;
  for (const field of fields) result = removePath(result, field.split('.'));
  return result;
}

// Copies along the path only, so the caller's object is never mutated.
function removePath(value: unknown, path: string[]): unknown {
  const [head, ...rest] = path;
  if (head === undefined || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const index = Number(head);
    if (!Number.isInteger(index) || index < 0 || index >= value.length) return value;
    if (rest.length === 0) return value.filter((_, position) => position !== index);
    const copy = value.slice();
    copy[index] = removePath(value[index], rest);
    return copy;
  }
  const record = value as Record<string, unknown>;
  if (!Object.hasOwn(record, head)) return value;
  const copy: Record<string, unknown> = { ...record };
  if (rest.length === 0) delete copy[head];
  else copy[head] = removePath(record[head], rest);
  return copy;
}

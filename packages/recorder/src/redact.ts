/** The value written in place of a secret. */
export const REDACTED = '[REDACTED]';

const SENSITIVE_NAMES = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'cookie',
  'set-cookie',
]);
const SENSITIVE_PATTERN = /(token|secret|key)/i;

/** True for a header or query-parameter name whose value must never reach disk. */
export function isSensitiveName(name: string): boolean {
  return SENSITIVE_NAMES.has(name.toLowerCase()) || SENSITIVE_PATTERN.test(name);
}

/** Returns a copy of `headers` with every sensitive value replaced by `[REDACTED]`. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    result[name] = isSensitiveName(name) ? REDACTED : value;
  }
  return result;
}

/**
 * Returns `url` with the value of every sensitive query parameter (and any password in the
 * user-info part) replaced by `[REDACTED]`. Everything else keeps its exact spelling.
 */
export function redactUrl(
  url: string,
  { extraNames = [] }: { extraNames?: readonly string[] } = {},
): string {
  const extra = new Set(extraNames.map((name) => name.toLowerCase()));
  const sensitive = (name: string) => isSensitiveName(name) || extra.has(name.toLowerCase());
  let result = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i, (_match, scheme, userInfo) => {
    const colon = userInfo.indexOf(':');
    return colon === -1
      ? `${scheme}${userInfo}@`
      : `${scheme}${userInfo.slice(0, colon)}:${REDACTED}@`;
  });
  const queryStart = result.indexOf('?');
  if (queryStart === -1) return result;
  const hashStart = result.indexOf('#', queryStart);
  const queryEnd = hashStart === -1 ? result.length : hashStart;
  const query = result
    .slice(queryStart + 1, queryEnd)
    .split('&')
    .map((part) => {
      const equals = part.indexOf('=');
      const rawName = equals === -1 ? part : part.slice(0, equals);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {}
      return sensitive(name) && equals !== -1 ? `${rawName}=${REDACTED}` : part;
    })
    .join('&');
  result = `${result.slice(0, queryStart + 1)}${query}${result.slice(queryEnd)}`;
  return result;
}

/**
 * Replaces the values at `paths` in a JSON body with `[REDACTED]`. A path is dot-separated keys
 * and array indexes (`messages.0.content`, `metadata.email`); `*` matches any key or index
 * (`messages.*.content`). A body that is not JSON is returned unchanged unless a path is `*`,
 * which redacts the whole body.
 */
export function redactJsonBody(body: string, paths: readonly string[]): string {
  if (paths.length === 0) return body;
  if (paths.includes('*')) return REDACTED;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return body;
  }
  let changed = false;
  const visit = (node: unknown, segments: string[]): void => {
    if (typeof node !== 'object' || node === null) return;
    const [head, ...rest] = segments;
    if (head === undefined) return;
    const record = node as Record<string, unknown>;
    const keys = head === '*' ? Object.keys(record) : Object.hasOwn(record, head) ? [head] : [];
    for (const key of keys) {
      if (rest.length === 0) {
        record[key] = REDACTED;
        changed = true;
      } else {
        visit(record[key], rest);
      }
    }
  };
  for (const path of paths) visit(value, path.split('.'));
  return changed ? JSON.stringify(value) : body;
}

/** What to redact beyond the defaults, which are always on. */
export interface RedactOptions {
  /** More header names to redact (case-insensitive). */
  headers?: readonly string[];
  /** More URL query parameter names to redact (case-insensitive). */
  queryParameters?: readonly string[];
  /** JSON paths in the request body to redact; see {@link redactJsonBody}. */
  bodyPaths?: readonly string[];
}

/**
 * Redacts a request as the recorder stores it: sensitive headers, query parameters and URL
 * passwords by default, plus whatever `options` add. Replayers hash requests after this.
 */
export function redactRequest(
  request: { method: string; url: string; headers: Record<string, string>; body: string | null },
  options: RedactOptions = {},
): { method: string; url: string; headers: Record<string, string>; body: string | null } {
  const extraHeaders = new Set((options.headers ?? []).map((name) => name.toLowerCase()));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name] =
      isSensitiveName(name) || extraHeaders.has(name.toLowerCase()) ? REDACTED : value;
  }
  return {
    method: request.method,
    url: redactUrl(request.url, { extraNames: options.queryParameters ?? [] }),
    headers,
    body: request.body === null ? null : redactJsonBody(request.body, options.bodyPaths ?? []),
  };
}

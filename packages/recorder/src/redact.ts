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

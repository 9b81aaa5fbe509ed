/**
 * Serialises a JSON value with object keys sorted, so two requests with the same content
 * compare equal whatever order their client wrote the keys in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return sorted;
  }
  return value;
}

/** Origin + path with the query sorted; the fragment dropped. */
export function normalizeUrl(url: string): string {
  const parsed = new URL(url);
  const entries = [...parsed.searchParams.entries()].sort(([nameA, valueA], [nameB, valueB]) =>
    nameA < nameB ? -1 : nameA > nameB ? 1 : valueA < valueB ? -1 : valueA > valueB ? 1 : 0,
  );
  const query = entries.length > 0 ? `?${new URLSearchParams(entries).toString()}` : '';
  return `${parsed.origin}${parsed.pathname}${query}`;
}

/** Request-body fields that change from run to run without changing what the model is asked. */
export const DEFAULT_IGNORED_BODY_FIELDS: readonly string[] = Object.freeze([
  'user',
  'metadata',
  'prompt_cache_key',
  'safety_identifier',
  'parent_span_id',
]);

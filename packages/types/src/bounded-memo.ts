/**
 * Wraps `compute` so the results for the last `limit` keys it saw are kept: a key seen again
 * returns the kept value without calling `compute`. When `limit` keys are kept, a new key
 * drops the one kept longest (a Map keeps insertion order; a kept key is not moved when it is
 * seen again).
 */
export function boundedMemo<T>(limit: number, compute: (key: string) => T): (key: string) => T {
  const kept = new Map<string, T>();
  return (key) => {
    const known = kept.get(key);
    // A hit on a defined value costs one lookup; has() tells a kept undefined from a miss.
    if (known !== undefined || kept.has(key)) return known as T;
    const value = compute(key);
    if (kept.size >= limit) kept.delete(kept.keys().next().value as string);
    kept.set(key, value);
    return value;
  };
}

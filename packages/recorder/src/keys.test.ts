import { spanIdSchema, traceIdSchema } from '@tapedeck/types';
import { describe, expect, it } from 'vitest';
import { tapeKeys } from './keys.js';

describe('tapeKeys without an active span', () => {
  it('gives W3C-valid ids that stay distinct across refills of the random pool', () => {
    // 1,000 tapes draw 24 random bytes each: several refills of the 4 KiB pool.
    const keys = Array.from({ length: 1000 }, () => tapeKeys(new Set()));
    expect(new Set(keys.map((key) => key.spanId)).size).toBe(1000);
    expect(new Set(keys.map((key) => key.traceId)).size).toBe(1000);
    for (const key of keys) {
      expect(spanIdSchema.safeParse(key.spanId).success).toBe(true);
      expect(traceIdSchema.safeParse(key.traceId).success).toBe(true);
    }
  });
});

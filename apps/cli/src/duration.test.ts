import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads a number and a unit', () => {
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('250ms')).toBe(250);
  });

  it('names the bad input', () => {
    expect(() => parseDuration('soon')).toThrow(/invalid duration "soon"/);
  });
});

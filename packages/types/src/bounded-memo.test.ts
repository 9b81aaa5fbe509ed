import { describe, expect, it } from 'vitest';
import { boundedMemo } from './bounded-memo.js';

function counted(limit: number) {
  const calls: string[] = [];
  const memo = boundedMemo(limit, (key) => {
    calls.push(key);
    return `value of ${key}`;
  });
  return { memo, calls };
}

describe('boundedMemo', () => {
  it('returns the computed value and computes a kept key only once', () => {
    const { memo, calls } = counted(3);
    expect(memo('a')).toBe('value of a');
    expect(memo('a')).toBe('value of a');
    expect(calls).toEqual(['a']);
  });

  it('keeps a key until limit newer keys have come, then computes it again', () => {
    const { memo, calls } = counted(3);
    memo('a');
    memo('b');
    memo('c');
    // Three keys kept: all of them are hits.
    memo('a');
    memo('c');
    expect(calls).toEqual(['a', 'b', 'c']);
    // A fourth key drops the one kept longest ('a', though it was seen again).
    memo('d');
    memo('b');
    memo('c');
    memo('d');
    expect(calls).toEqual(['a', 'b', 'c', 'd']);
    expect(memo('a')).toBe('value of a');
    expect(calls).toEqual(['a', 'b', 'c', 'd', 'a']);
    // Bringing 'a' back dropped 'b', the oldest then.
    memo('c');
    memo('b');
    expect(calls).toEqual(['a', 'b', 'c', 'd', 'a', 'b']);
  });

  it('keeps a computed undefined like any other value', () => {
    let calls = 0;
    const memo = boundedMemo(2, () => {
      calls += 1;
      return undefined;
    });
    memo('a');
    memo('a');
    expect(calls).toBe(1);
  });
});

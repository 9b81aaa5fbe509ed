import { describe, expect, it } from 'vitest';
import { formatBytes, formatMs, renderTable, truncate, visibleWidth } from './format.js';

describe('formatters', () => {
  it('formats bytes and durations with units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KB');
    expect(formatMs(undefined)).toBe('-');
    expect(formatMs(12.4)).toBe('12 ms');
    expect(formatMs(1250)).toBe('1.25 s');
  });

  it('aligns columns and ignores colour codes when measuring', () => {
    const red = `${String.fromCharCode(27)}[31mab${String.fromCharCode(27)}[39m`;
    expect(visibleWidth(red)).toBe(2);
    const table = renderTable({
      headers: ['ID', 'N'],
      rows: [
        [red, '5'],
        ['abcd', '10'],
      ],
      align: ['left', 'right'],
    });
    expect(table.split('\n').map((line) => visibleWidth(line))).toEqual([8, 8, 8]);
  });

  it('truncates to one line', () => {
    expect(truncate('a\nb', 10)).toBe('a⏎b');
    expect(truncate('abcdef', 4)).toBe('abc…');
  });
});

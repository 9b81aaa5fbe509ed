import { describe, expect, it } from 'vitest';
import { colorsFor, invocation } from './io.js';

const ESCAPE = String.fromCharCode(27);

describe('colorsFor', () => {
  it('colours a TTY', () => {
    expect(colorsFor({ stream: { isTTY: true }, env: {} }).red('x')).toContain(ESCAPE);
  });

  it('never colours a pipe, NO_COLOR or a dumb terminal', () => {
    expect(colorsFor({ stream: { isTTY: false }, env: {} }).red('x')).toBe('x');
    expect(colorsFor({ stream: { isTTY: true }, env: { NO_COLOR: '1' } }).red('x')).toBe('x');
    expect(colorsFor({ stream: { isTTY: true }, env: { TERM: 'dumb' } }).red('x')).toBe('x');
  });
});

describe('invocation', () => {
  it('is `tapedeck` through the bin link, else node and the script path from cwd', () => {
    expect(invocation({ cwd: '/repo', script: '/usr/local/bin/tapedeck' })).toBe('tapedeck');
    expect(invocation({ cwd: '/repo', script: '/repo/apps/cli/dist/bin.js' })).toBe(
      'node apps/cli/dist/bin.js',
    );
  });
});

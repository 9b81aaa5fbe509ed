import { describe, expect, it } from 'vitest';
import { TapedeckError } from './errors.js';

describe('TapedeckError', () => {
  it('carries code, cause and context and prefixes the message', () => {
    const cause = new Error('disk full');
    const error = new TapedeckError({
      code: 'STORE_FAILURE',
      message: 'could not append to tape',
      cause,
      context: { tapeId: 'abc', byteOffset: 12 },
    });
    expect(error.message).toBe('[tapedeck] could not append to tape');
    expect(error.code).toBe('STORE_FAILURE');
    expect(error.cause).toBe(cause);
    expect(error.context).toEqual({ tapeId: 'abc', byteOffset: 12 });
    expect(error).toBeInstanceOf(Error);
  });

  it('isInstance recognises errors from another copy of the class', () => {
    // A structurally identical error built by a second copy carries the same global symbol.
    const foreign = Object.assign(new Error('x'), { [Symbol.for('tapedeck.error')]: true });
    expect(TapedeckError.isInstance(foreign)).toBe(true);
    expect(TapedeckError.isInstance(new Error('x'))).toBe(false);
    expect(TapedeckError.isInstance(null)).toBe(false);
    expect(
      TapedeckError.hasCode(
        new TapedeckError({ code: 'TAPE_NOT_FOUND', message: 'm' }),
        'TAPE_NOT_FOUND',
      ),
    ).toBe(true);
  });
});

import { TapedeckError } from '@tapedeck/types';
import { describe, expect, it } from 'vitest';
import { collect } from '../test/helpers.js';
import { encodeEvent } from './encode.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('encodeEvent', () => {
  it('writes comments, every field and a closing blank line', () => {
    expect(
      text(encodeEvent({ comments: ['hi'], event: 'ping', id: '7', retry: 1000, data: 'a\nb' })),
    ).toBe(': hi\nevent: ping\nid: 7\nretry: 1000\ndata: a\ndata: b\n\n');
  });

  it('splits multi-line data and comments on LF, CR and CRLF', () => {
    expect(text(encodeEvent({ data: 'a\r\nb\rc\nd', comments: ['x\ry'] }))).toBe(
      ': x\n: y\ndata: a\ndata: b\ndata: c\ndata: d\n\n',
    );
  });

  it('keeps a leading space in a value by always writing one separator space', () => {
    const bytes = encodeEvent({ data: ' lead', event: ' t', id: ' i', comments: [' c'] });
    const { events } = collect([bytes]);
    expect(events).toMatchObject([{ data: ' lead', type: ' t', id: ' i', comments: [' c'] }]);
  });

  it('writes empty data as one empty data line, which still dispatches', () => {
    expect(text(encodeEvent({ data: '' }))).toBe('data: \n\n');
    expect(collect([encodeEvent({ data: '' })]).events).toMatchObject([{ data: '' }]);
  });

  it('rejects a line break in the event type instead of writing it', () => {
    expect(() => encodeEvent({ event: 'a\nb', data: 'x' })).toThrow(/contains CR or LF/);
    expect(() => encodeEvent({ event: 'a\rb', data: 'x' })).toThrow(/contains CR or LF/);
  });

  it('rejects CR, LF or NULL in the id with an INVALID_ARGUMENT TapedeckError', () => {
    for (const id of ['1\n2', '1\r', '\0']) {
      try {
        encodeEvent({ id, data: 'x' });
        expect.unreachable();
      } catch (error) {
        expect(TapedeckError.hasCode(error, 'INVALID_ARGUMENT')).toBe(true);
        expect((error as Error).message).toMatch(/^\[tapedeck\] encodeEvent: the id/);
      }
    }
  });

  it('rejects a retry that is not a non-negative integer', () => {
    for (const retry of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => encodeEvent({ retry, data: 'x' })).toThrow(/retry must be/);
  });

  it('encodes non-ASCII text as UTF-8', () => {
    expect(Array.from(encodeEvent({ data: 'é' }))).toEqual([
      ...new TextEncoder().encode('data: '),
      0xc3,
      0xa9,
      10,
      10,
    ]);
  });
});

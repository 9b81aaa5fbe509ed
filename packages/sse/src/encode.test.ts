import { describe, expect, it } from 'vitest';
import { encodeEvent } from './encode.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('encodeEvent', () => {
  it('writes every field and ends with a blank line', () => {
    expect(text(encodeEvent({ event: 'ping', id: '7', retry: 1000, data: 'a\nb' }))).toBe(
      'event: ping\nid: 7\nretry: 1000\ndata: a\ndata: b\n\n',
    );
  });

  it('rejects a line break in the event type instead of writing it', () => {
    expect(() => encodeEvent({ event: 'a\nb', data: 'x' })).toThrow(/must not contain CR or LF/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUtf8, wasmUtf8Decoder } from './bytes.js';

// The WHATWG decoder, fresh and non-streaming for every value: what decodeUtf8 must equal.
const reference = (bytes: Uint8Array) =>
  new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);

const encoder = new TextEncoder();
// Pieces of valid UTF-8 (1- to 4-byte characters, a U+FEFF) and bytes that break it: lone
// continuation bytes, leads without their continuations, overlong and surrogate forms, bytes
// that never occur in UTF-8.
const piece = fc.oneof(
  fc
    .constantFrom('a', ' ', '{"delta":"', 'é', '日', '🚀', '\uFEFF', '\n')
    .map((text) => [...encoder.encode(text)]),
  fc.constantFrom(
    [0x80],
    [0xbf],
    [0xc3],
    [0xe6],
    [0xe6, 0x97],
    [0xf0],
    [0xf0, 0x9f],
    [0xf0, 0x9f, 0x9a],
    [0xc0, 0xaf],
    [0xe0, 0x80, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xff],
    [0xfe],
  ),
);
const value = fc.array(piece, { maxLength: 40 }).map((pieces) => new Uint8Array(pieces.flat()));

describe('decodeUtf8', () => {
  it('equals the WHATWG decoder on any bytes, on every path (V8, ASCII, WebAssembly, TextDecoder), call after call', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(value, fc.nat(), fc.nat()), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(0, 1, 8, 256),
        fc.constantFrom(wasmUtf8Decoder, null),
        (values, largeValueBytes, wasm) => {
          // Several values in a row: a value cut inside a character must not leave bytes in the
          // streaming decoder that would show up in the next one.
          for (const [bytes, a, b] of values) {
            const start = a % (bytes.length + 1);
            const end = start + (b % (bytes.length - start + 1));
            expect(decodeUtf8(bytes, start, end, largeValueBytes, wasm)).toBe(
              reference(bytes.subarray(start, end)),
            );
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('decodes large ASCII and non-ASCII values exactly', () => {
    const ascii = encoder.encode('{"type":"response.output_text.done","text":"plain"}'.repeat(40));
    const mixed = encoder.encode('{"text":"naïve café 日本語 🚀 Привет"}'.repeat(40));
    for (const bytes of [ascii, mixed]) {
      for (const wasm of [wasmUtf8Decoder, null]) {
        expect(decodeUtf8(bytes, 0, bytes.length, 256, wasm)).toBe(reference(bytes));
        // Cut short of the end, after a complete character.
        expect(decodeUtf8(bytes, 3, bytes.length - 2, 0, wasm)).toBe(
          reference(bytes.subarray(3, bytes.length - 2)),
        );
      }
    }
  });

  it('decodes a value cut inside its last multi-byte character without holding bytes back', () => {
    // largeValueBytes 0 below sends even this short value down the large-value paths.
    const bytes = encoder.encode('{"text":"naïve café 日本語 🚀 Привет"}');
    // One byte after the last lead byte: the cut falls between a character's lead and its
    // continuation, so the value ends in an incomplete character.
    const end = bytes.findLastIndex((byte) => byte >= 0xc0) + 1;
    expect(end).toBeGreaterThan(0);
    expect(bytes[end] as number).toBeGreaterThanOrEqual(0x80);
    expect(bytes[end] as number).toBeLessThan(0xc0);
    for (const wasm of [wasmUtf8Decoder, null]) {
      // A streaming decode would hold the incomplete character back instead of giving U+FFFD.
      expect(decodeUtf8(bytes, 3, end, 0, wasm)).toBe(reference(bytes.subarray(3, end)));
      // Nor may those bytes show up at the start of the next value.
      expect(decodeUtf8(bytes, 0, bytes.length, 0, wasm)).toBe(reference(bytes));
    }
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWasmUtf8Decoder } from './utf8-wasm.js';

const decoder = createWasmUtf8Decoder();
const replacing = new TextDecoder('utf-8', { ignoreBOM: true });
const fatal = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });
const isValid = (bytes: Uint8Array) => {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
};

const encoder = new TextEncoder();
// Runs of ASCII long enough for the 16-byte steps, 1- to 4-byte characters, and every way UTF-8
// can be wrong: lone continuation bytes, leads without their continuations, overlong forms
// (2-, 3- and 4-byte), surrogates, code points past U+10FFFF, bytes that never occur.
const piece = fc.oneof(
  fc
    .string({ unit: fc.constantFrom('a', ' ', '"', '{', '\n', '\r'), maxLength: 40 })
    .map((text) => [...encoder.encode(text)]),
  fc
    .constantFrom(
      'é',
      'ß',
      'ÿ',
      'Ā',
      '߿',
      'ࠀ',
      '日',
      '\uFEFF',
      '\uFFFD',
      '\uFFFF',
      '𐀀',
      '🚀',
      '\u{10FFFF}',
    )
    .map((text) => [...encoder.encode(text)]),
  fc.constantFrom(
    [0x80],
    [0xbf],
    [0xc2],
    [0xe6, 0x97],
    [0xf0, 0x9f, 0x9a],
    [0xc0, 0xaf],
    [0xc1, 0xbf],
    [0xe0, 0x9f, 0xbf],
    [0xf0, 0x8f, 0xbf, 0xbf],
    [0xed, 0xa0, 0x80],
    [0xed, 0xbf, 0xbf],
    [0xf4, 0x90, 0x80, 0x80],
    [0xf5, 0x80, 0x80, 0x80],
    [0xff],
  ),
);
const bytes = fc.array(piece, { maxLength: 30 }).map((pieces) => new Uint8Array(pieces.flat()));

describe.runIf(decoder !== null)('WebAssembly UTF-8 decoder', () => {
  it('decodes valid UTF-8 exactly as TextDecoder does, and refuses everything else', () => {
    fc.assert(
      fc.property(bytes, fc.nat(), fc.nat(), (input, a, b) => {
        const start = a % (input.length + 1);
        const end = start + (b % (input.length - start + 1));
        const view = input.subarray(start, end);
        const decoded = decoder?.decode(input, start, end);
        if (isValid(view)) expect(decoded).toBe(replacing.decode(view));
        else expect(decoded).toBeUndefined();
      }),
      { numRuns: 5000 },
    );
  });

  it('decodes every code point, at every position of a 16-byte step', () => {
    const ranges = [
      [0, 0xd7ff],
      [0xe000, 0x10ffff],
    ] as const;
    const characters: string[] = [];
    for (const [from, to] of ranges)
      for (let codePoint = from; codePoint <= to; codePoint++)
        characters.push(String.fromCodePoint(codePoint));
    // In pieces under the 1 MiB the decoder takes.
    for (let from = 0; from < characters.length; from += 100_000) {
      const text = characters.slice(from, from + 100_000).join('');
      const input = encoder.encode(text);
      expect(decoder?.decode(input, 0, input.length)).toBe(text);
    }
    for (let shift = 1; shift < 16; shift++) {
      const shifted = encoder.encode(`${'a'.repeat(shift)}${characters.slice(0, 5000).join('')}`);
      expect(decoder?.decode(shifted, 0, shifted.length)).toBe(replacing.decode(shifted));
    }
  });

  it('grows its memory for large inputs, leaves inputs over 1 MiB to others, and still decodes small ones after', () => {
    const large = encoder.encode('naïve café 日本語 🚀 Привет '.repeat(20_000));
    expect(large.length).toBeLessThan(1024 * 1024);
    expect(decoder?.decode(large, 0, large.length)).toBe(replacing.decode(large));
    const tooLarge = encoder.encode('a'.repeat(1024 * 1024 + 1));
    expect(decoder?.decode(tooLarge, 0, tooLarge.length)).toBeUndefined();
    const small = encoder.encode('{"delta":"é"}');
    expect(decoder?.decode(small, 0, small.length)).toBe('{"delta":"é"}');
  });
});

describe('WebAssembly availability', () => {
  it('is there on Node 20, so the fast path is the one measured', () => {
    expect(decoder).not.toBeNull();
  });
});

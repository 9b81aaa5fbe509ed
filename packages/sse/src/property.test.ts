import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collect, splitAtPoints } from '../test/helpers.js';
import { type EncodeEventInput, encodeEvent } from './index.js';

const encoder = new TextEncoder();
const BOM = [0xef, 0xbb, 0xbf];

const valueText = fc.string({
  unit: fc.constantFrom('a', 'b', ' ', ':', 'é', '日', '🎉', '\uFEFF', '\0', '1', '{', '"'),
  maxLength: 8,
});
const line = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('data', 'event', 'id', 'retry', 'foo', 'Data', ''),
      fc.constantFrom(':', ': ', ':  ', ''),
      valueText,
    )
    .map(([name, separator, value]) => (separator === '' ? name : `${name}${separator}${value}`)),
  valueText.map((comment) => `:${comment}`),
  fc.constantFrom('retry: 250', 'id', 'data'),
);
const lineEnd = fc.constantFrom('\n', '\r', '\r\n');
// Streams built from SSE lines, now and then with raw bytes (invalid UTF-8, stray CR/LF, a BOM)
// spliced in, or no structure at all.
const stream = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.boolean(),
        fc.array(fc.tuple(fc.oneof(line, fc.constant('')), lineEnd), { maxLength: 12 }),
        fc.option(line, { nil: undefined }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(0xff, 0xc3, 0xe6, 0xbf, 0x0d, 0x0a)), {
          maxLength: 2,
        }),
      )
      .map(([bom, lines, tail, splices]) => {
        const text = lines.map(([content, end]) => content + end).join('') + (tail ?? '');
        const bytes = [...(bom ? BOM : []), ...encoder.encode(text)];
        for (const [at, byte] of splices) bytes.splice(at % (bytes.length + 1), 0, byte);
        return new Uint8Array(bytes);
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 40 })
      .map((bytes) =>
        bytes.map((b) => [10, 13, 58, 32, 100, 97, 116, 0xef, 0xbb, 0xbf, 0xff][b % 11] as number),
      ),
  },
);
const splitPoints = fc.array(fc.nat(), { maxLength: 8 });
// Full mode's decoding paths (see CreateParserOptions._internal).
const decoding = fc.constantFrom(
  { regionMinBytes: 0 },
  { regionMinBytes: 0, wasm: false },
  { regionMinBytes: 8 },
  {},
  { largeValueBytes: 0 },
  { largeValueBytes: 0, wasm: false },
);

const withLeadingLf = (bytes: Uint8Array) => {
  // A leading blank line resets nothing but keeps a U+FEFF at the start from being taken as a BOM.
  const copy = new Uint8Array(bytes.length + 1);
  copy[0] = 10;
  copy.set(bytes, 1);
  return copy;
};

describe('parser properties', () => {
  it('any chunking of any input yields identical events, ranges, comments, retries and errors, with or without a size limit', () => {
    fc.assert(
      fc.property(
        stream,
        splitPoints,
        fc.constantFrom('full', 'framing' as const),
        fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
        decoding,
        (bytes, points, mode, maxEventBytes, internal) => {
          const options = {
            mode,
            _internal: internal,
            ...(maxEventBytes === undefined ? {} : { maxEventBytes }),
          };
          const whole = collect([bytes], options);
          expect(collect(splitAtPoints(bytes, points), options)).toEqual(whole);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('framing mode and every full-mode decoding path report the same', () => {
    fc.assert(
      fc.property(stream, splitPoints, decoding, (bytes, points, internal) => {
        // Full mode decodes the chunk with the WebAssembly decoder (regionMinBytes 0), or without
        // it, or value by value with V8's decoder or TextDecoder; framing decodes lazily. All
        // must agree, however the input is split.
        const full = collect([bytes], { mode: 'full', _internal: { regionMinBytes: 0 } });
        expect(collect(splitAtPoints(bytes, points), { mode: 'framing' })).toEqual(full);
        expect(
          collect(splitAtPoints(bytes, points), { mode: 'full', _internal: internal }),
        ).toEqual(full);
      }),
      { numRuns: 1000 },
    );
  });

  it('LLM-like streams (long non-ASCII values, CR/CRLF, BOM, invalid bytes) decode the same on every path, split anywhere', () => {
    // Long enough for every fast path: values past largeValueBytes, chunks past regionMinBytes,
    // 16-byte SIMD steps with non-ASCII characters at any position, characters cut by a split.
    const word = fc.constantFrom('the ', 'model ', 'naïve ', 'café ', '日本語 ', '🚀 ', 'Привет ');
    const data = fc
      .array(word, { maxLength: 120 })
      .map((words) => `{"type":"response.output_text.delta","delta":"${words.join('')}"}`);
    const event = fc.tuple(
      fc.option(fc.constantFrom('response.output_text.delta', 'répons€'), { nil: undefined }),
      fc.array(data, { minLength: 1, maxLength: 2 }),
      fc.constantFrom('\n', '\r', '\r\n'),
    );
    const llmStream = fc
      .tuple(
        fc.boolean(),
        fc.array(event, { maxLength: 12 }),
        fc.option(fc.nat(), { nil: undefined }),
      )
      .map(([bom, events, invalidAt]) => {
        const text = events
          .map(
            ([type, lines, end]) =>
              [
                ...(type === undefined ? [] : [`event: ${type}`]),
                ...lines.map((line) => `data: ${line}`),
              ]
                .map((line) => line + end)
                .join('') + end,
          )
          .join('');
        const bytes = [...(bom ? BOM : []), ...encoder.encode(text)];
        if (invalidAt !== undefined) bytes.splice(invalidAt % (bytes.length + 1), 0, 0xe6);
        return new Uint8Array(bytes);
      });
    // The plainest path: every value on its own with V8's decoder.
    const plain = {
      regionMinBytes: Number.POSITIVE_INFINITY,
      largeValueBytes: Number.POSITIVE_INFINITY,
    };
    fc.assert(
      fc.property(
        llmStream,
        fc.array(fc.nat(), { maxLength: 6 }),
        decoding,
        (bytes, points, internal) => {
          const expected = collect([bytes], { mode: 'full', _internal: plain });
          expect(
            collect(splitAtPoints(bytes, points), { mode: 'full', _internal: internal }),
          ).toEqual(expected);
          expect(collect(splitAtPoints(bytes, points), { mode: 'framing' })).toEqual(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the byte ranges tile the input: each range alone is its event, the gaps hold none', () => {
    fc.assert(
      fc.property(stream, (bytes) => {
        const { events } = collect([bytes]);
        let previousEnd = 0;
        const gaps: Uint8Array[] = [];
        for (const event of events) {
          expect(event.byteStart).toBeGreaterThanOrEqual(previousEnd);
          expect(event.byteEnd).toBeGreaterThan(event.byteStart);
          gaps.push(bytes.subarray(previousEnd, event.byteStart));
          const alone = collect([withLeadingLf(bytes.subarray(event.byteStart, event.byteEnd))]);
          expect(alone.events).toHaveLength(1);
          expect(alone.errors).toEqual([]);
          const [only] = alone.events;
          expect({
            type: only?.type,
            data: only?.data,
            retry: only?.retry,
            comments: only?.comments,
          }).toEqual({
            type: event.type,
            data: event.data,
            retry: event.retry,
            comments: event.comments,
          });
          expect(only?.byteEnd).toBe(event.byteEnd - event.byteStart + 1);
          previousEnd = event.byteEnd;
        }
        expect(previousEnd).toBeLessThanOrEqual(bytes.length);
        gaps.push(bytes.subarray(previousEnd));
        for (const gap of gaps) expect(collect([withLeadingLf(gap)]).events).toEqual([]);
      }),
      { numRuns: 1500 },
    );
  });

  it('parse(encode(events)) returns the events', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', ' ', ':', 'é', '🎉', '\uFEFF', '\0', '\n', '\r', 'x'),
      maxLength: 10,
    });
    const singleLine = text.map((value) => value.replace(/[\r\n]/g, ''));
    const event: fc.Arbitrary<EncodeEventInput> = fc.record(
      {
        data: text,
        event: singleLine,
        id: singleLine.map((value) => value.replace(/\0/g, '')),
        retry: fc.nat(),
        comments: fc.array(text, { maxLength: 2 }),
      },
      { requiredKeys: ['data'] },
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 6 }), splitPoints, (inputs, points) => {
        const bytes = new Uint8Array(inputs.flatMap((input) => [...encodeEvent(input)]));
        const { events, errors } = collect(splitAtPoints(bytes, points));
        expect(errors).toEqual([]);
        let lastId = '';
        expect(
          events.map(({ type, data, id, retry, comments }) => ({
            type,
            data,
            id,
            retry,
            comments,
          })),
        ).toEqual(
          inputs.map((input) => {
            if (input.id !== undefined) lastId = input.id;
            return {
              type: input.event || 'message',
              data: input.data.replace(/\r\n|\r/g, '\n'),
              id: lastId,
              retry: input.retry,
              comments: (input.comments ?? []).flatMap((comment) => comment.split(/\r\n|\r|\n/)),
            };
          }),
        );
      }),
      { numRuns: 1000 },
    );
  });
});

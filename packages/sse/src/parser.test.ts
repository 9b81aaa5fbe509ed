import { describe, expect, it } from 'vitest';
import { collect, createRandom, splitEveryByte, splitRandomly } from '../test/helpers.js';
import { createParser, type ParsedEvent, ParseError, type ParserMode } from './index.js';

const encoder = new TextEncoder();
const bytesOf = (input: string | number[]) =>
  typeof input === 'string' ? encoder.encode(input) : new Uint8Array(input);

interface Case {
  /** The spec rule this case checks. */
  rule: string;
  input: string | number[];
  events: Array<Partial<ParsedEvent>>;
  comments?: string[];
  retries?: number[];
  errors?: Array<{ type: string; byteOffset: number; bytes?: string }>;
}

// Rules from WHATWG HTML §9.2.6 "Interpreting an event stream" (and the ABNF in §9.2.5).
const cases: Case[] = [
  {
    rule: 'a blank line dispatches; type defaults to message; range covers the blank line',
    input: 'data: hello\n\n',
    events: [
      { type: 'message', data: 'hello', id: '', comments: [], byteStart: 0, byteEnd: 13, index: 0 },
    ],
  },
  {
    rule: 'event sets the type',
    input: 'event: ping\ndata: x\n\n',
    events: [{ type: 'ping', data: 'x', byteStart: 0, byteEnd: 21 }],
  },
  {
    rule: 'a repeated type is recognised each time, whatever its line end or spelling',
    input:
      'event: a\ndata: 1\n\nevent: a\ndata: 2\n\nevent: ab\ndata: 3\n\nevent: a\rdata: 4\n\nevent:a\ndata: 5\n\nevent: a\n\ndata: 6\n\n',
    events: [
      { type: 'a', data: '1' },
      { type: 'a', data: '2' },
      { type: 'ab', data: '3' },
      { type: 'a', data: '4' },
      { type: 'a', data: '5' },
      { type: 'message', data: '6' },
    ],
  },
  {
    rule: 'a repeated non-ASCII type keeps the following data intact',
    input: 'event: é\ndata: ü1\n\nevent: é\ndata: ü2\n\n: ñ\nevent: é\ndata: 3\n\n',
    events: [
      { type: 'é', data: 'ü1' },
      { type: 'é', data: 'ü2' },
      { type: 'é', data: '3', comments: ['ñ'] },
    ],
  },
  {
    rule: 'an empty event field leaves the default type',
    input: 'event\ndata: x\n\nevent:\ndata: y\n\n',
    events: [
      { type: 'message', data: 'x' },
      { type: 'message', data: 'y' },
    ],
  },
  {
    rule: 'the type buffer is reset after each dispatch, also after a block with no data',
    input: 'event: a\n\ndata: x\n\n',
    events: [{ type: 'message', data: 'x', byteStart: 10, byteEnd: 19, index: 0 }],
  },
  {
    rule: 'data lines are joined with LF',
    input: 'data: a\ndata: b\ndata: c\n\n',
    events: [{ data: 'a\nb\nc' }],
  },
  {
    rule: 'only one space after the colon is removed',
    input: 'data:  two\n\ndata:none\n\nevent:  spaced\ndata\n\n',
    events: [{ data: ' two' }, { data: 'none' }, { type: ' spaced', data: '' }],
  },
  {
    rule: 'a field with no colon has an empty value; an empty data line still dispatches',
    input: 'data\n\ndata\ndata\n\ndata:\n\n',
    events: [{ data: '' }, { data: '\n' }, { data: '' }],
  },
  {
    rule: 'the value may contain colons',
    input: 'data: a: b:c\n\n',
    events: [{ data: 'a: b:c' }],
  },
  {
    rule: 'CR ends lines',
    input: 'data: a\rdata: b\r\r',
    events: [{ data: 'a\nb', byteStart: 0, byteEnd: 17 }],
  },
  {
    rule: 'CRLF ends lines',
    input: 'data: a\r\ndata: b\r\n\r\n',
    events: [{ data: 'a\nb', byteStart: 0, byteEnd: 20 }],
  },
  {
    rule: 'LF, CR and CRLF mix in one stream; CR then LF is one line end',
    input: 'data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r\n',
    events: [
      { data: 'a\nb\nc', byteStart: 0, byteEnd: 27 },
      { data: 'd', byteStart: 27, byteEnd: 37 },
    ],
  },
  {
    rule: 'LF then CR is two line ends',
    input: 'data: a\n\rdata: b\n\n',
    events: [
      { data: 'a', byteStart: 0, byteEnd: 9 },
      { data: 'b', byteStart: 9, byteEnd: 18 },
    ],
  },
  {
    rule: 'comment lines are ignored as fields and reported, one leading space removed',
    input: ': keep-alive\n\n:x\ndata: y\n:  two\n\n',
    events: [{ data: 'y', comments: ['x', ' two'], byteStart: 14, byteEnd: 33 }],
    comments: ['keep-alive', 'x', ' two'],
  },
  {
    rule: 'the last event id persists across events',
    input: 'id: 1\ndata: a\n\ndata: b\n\n',
    events: [
      { id: '1', data: 'a' },
      { id: '1', data: 'b' },
    ],
  },
  {
    rule: 'an empty id resets the last event id',
    input: 'id: 1\ndata: a\n\nid\ndata: b\n\nid:\ndata: c\n\n',
    events: [{ id: '1' }, { id: '' }, { id: '' }],
  },
  {
    rule: 'an id containing NULL is ignored',
    input: 'id: 1\ndata: a\n\nid: 2\u0000x\ndata: b\n\n',
    events: [{ id: '1' }, { id: '1' }],
  },
  {
    rule: 'a block with no data is not dispatched but still sets the id',
    input: 'id: 7\n\ndata: x\n\n',
    events: [{ id: '7', data: 'x', byteStart: 7, index: 0 }],
  },
  {
    rule: 'only one space is removed from an id',
    input: 'id:  5\ndata\n\n',
    events: [{ id: ' 5' }],
  },
  {
    rule: 'retry with only ASCII digits is reported, on the event and to onRetry',
    input: 'retry: 1000\ndata: x\n\ndata: y\n\n',
    events: [{ data: 'x', retry: 1000 }, { data: 'y' }],
    retries: [1000],
  },
  {
    rule: 'retry with anything but ASCII digits (or nothing) is ignored',
    input: 'retry: 10a\nretry: -1\nretry:\nretry: 1.5\nretry:  5\nretry: ٣\ndata: x\n\n',
    events: [{ data: 'x' }],
    retries: [],
  },
  {
    rule: 'retry on a block without data is still reported',
    input: 'retry: 5\n\n',
    events: [],
    retries: [5],
  },
  {
    rule: 'unknown fields are ignored; field names are case-sensitive',
    input: 'foo: bar\nData: no\nDATA: no\nevents: no\nidx: 1\ndata: yes\n\n',
    events: [{ data: 'yes', id: '' }],
  },
  {
    rule: 'one leading BOM is stripped and counted in the offsets',
    input: '\uFEFFdata: x\n\n',
    events: [{ data: 'x', byteStart: 3, byteEnd: 12 }],
  },
  {
    rule: 'a second BOM is content: the line is an unknown field',
    input: '\uFEFF\uFEFFdata: x\n\ndata: y\n\n',
    events: [{ data: 'y', byteStart: 15, byteEnd: 24, index: 0 }],
  },
  {
    rule: 'a U+FEFF inside a value is kept',
    input: 'data: \uFEFFx\n\n',
    events: [{ data: '\uFEFFx' }],
  },
  {
    rule: 'UTF-8 text decodes, ranges count bytes',
    input: 'data: héllo 你好 🎉\n\ndata: z\n\n',
    events: [
      { data: 'héllo 你好 🎉', byteStart: 0, byteEnd: 26 },
      { data: 'z', byteStart: 26, byteEnd: 35 },
    ],
  },
  {
    rule: 'invalid UTF-8 becomes U+FFFD, as browsers decode it',
    input: [...bytesOf('data: a'), 0xff, 0xc3, ...bytesOf('b'), 0xe4, 0xbd, ...bytesOf('\n\n')],
    events: [{ data: 'a\uFFFD\uFFFDb\uFFFD' }],
  },
  {
    rule: 'blank lines between events are leftovers outside every range',
    input: '\n\ndata: a\n\n\n\r\ndata: b\n\n',
    events: [
      { data: 'a', byteStart: 2, byteEnd: 11 },
      { data: 'b', byteStart: 14, byteEnd: 23, index: 1 },
    ],
  },
  {
    rule: 'a CR at the very end of the stream is a line end and dispatches',
    input: 'data: x\r\r',
    events: [{ data: 'x', byteStart: 0, byteEnd: 9 }],
  },
  {
    rule: 'an unterminated event is not dispatched; end() reports it with its bytes',
    input: 'data: a\n\n: note\ndata: b',
    events: [{ data: 'a' }],
    comments: ['note'],
    errors: [{ type: 'incomplete-event', byteOffset: 9, bytes: ': note\ndata: b' }],
  },
  {
    rule: 'a complete line without the blank line is still an incomplete event',
    input: 'data: a\nid: 4\n',
    events: [],
    errors: [{ type: 'incomplete-event', byteOffset: 0, bytes: 'data: a\nid: 4\n' }],
  },
  {
    rule: 'trailing comments and blank lines are not an incomplete event',
    input: 'data: a\n\n: bye\n\n: still here\n',
    events: [{ data: 'a' }],
    comments: ['bye', 'still here'],
    errors: [],
  },
];

function expectCase(
  testCase: Case,
  chunks: Array<Uint8Array | string>,
  mode: ParserMode,
  internal: Decoding,
) {
  const result = collect(chunks, { mode, _internal: internal });
  expect(result.events).toHaveLength(testCase.events.length);
  testCase.events.forEach((expected, i) => {
    expect(result.events[i]).toMatchObject(expected);
  });
  if ('retries' in testCase) expect(result.retries).toEqual(testCase.retries);
  if (testCase.comments) expect(result.comments).toEqual(testCase.comments);
  expect(result.errors).toMatchObject(testCase.errors ?? []);
  return result;
}

type Decoding = { regionMinBytes?: number; wasm?: boolean; largeValueBytes?: number };
// Full mode is run on each of its decoding paths: whole chunks at once (from 0 bytes) with the
// WebAssembly decoder and without it, and value by value (the default for inputs this small)
// with V8's decoder and with TextDecoder (from 0 bytes).
describe.each([
  ['full', 'whole chunks, WebAssembly', { regionMinBytes: 0 }],
  ['full', 'whole chunks, no WebAssembly', { regionMinBytes: 0, wasm: false }],
  ['full', 'value by value', {}],
  ['full', 'value by value, TextDecoder', { largeValueBytes: 0 }],
  ['framing', 'lazily', {}],
] as const satisfies ReadonlyArray<readonly [ParserMode, string, Decoding]>)(
  'createParser conformance (%s mode, decoding %s)',
  (mode, _decoding, internal) => {
    for (const testCase of cases) {
      describe(testCase.rule, () => {
        const bytes = bytesOf(testCase.input);
        it('whole', () => {
          const whole = expectCase(testCase, [bytes], mode, internal);
          // Event fields are exactly the contract's, no more.
          for (const event of whole.events)
            expect(Object.keys(event).sort()).toEqual(
              [
                'byteEnd',
                'byteStart',
                'comments',
                'data',
                'id',
                'index',
                'type',
                ...('retry' in event ? ['retry'] : []),
              ].sort(),
            );
        });
        it('byte by byte', () => {
          expectCase(testCase, splitEveryByte(bytes), mode, internal);
        });
        it('in random splits', () => {
          const random = createRandom(testCase.rule.length);
          for (let round = 0; round < 20; round++)
            expectCase(testCase, splitRandomly(bytes, random), mode, internal);
        });
        if (typeof testCase.input === 'string') {
          it('as string chunks', () => {
            const text = testCase.input as string;
            expectCase(
              testCase,
              [text.slice(0, 3), text.slice(3, 11), text.slice(11)],
              mode,
              internal,
            );
          });
        }
      });
    }
  },
);

describe('createParser', () => {
  it('copes with a string chunk that splits a surrogate pair', () => {
    const { events } = collect(['data: \uD83C', '\uDF89\n\n']);
    expect(events[0]?.data).toBe('🎉');
  });

  it('copes with a BOM split across chunks', () => {
    const { events } = collect([
      new Uint8Array([0xef]),
      new Uint8Array([0xbb]),
      bytesOf('\u00bfx'),
    ]);
    // EF BB then C2 BF: not a BOM, so the line is an unknown field, nothing is dispatched.
    expect(events).toEqual([]);
    const split = collect([
      new Uint8Array([0xef, 0xbb]),
      new Uint8Array([0xbf]),
      bytesOf('data: y\n\n'),
    ]);
    expect(split.events).toMatchObject([{ data: 'y', byteStart: 3 }]);
  });

  it('dispatches a CR-terminated event only once it knows whether an LF follows', () => {
    const seen: ParsedEvent[] = [];
    const parser = createParser({ onEvent: (event) => seen.push(event) });
    parser.feed('data: x\r\r');
    expect(seen).toHaveLength(0);
    parser.feed('\ndata: y\n\n');
    expect(seen.map((event) => [event.data, event.byteStart, event.byteEnd])).toEqual([
      ['x', 0, 10],
      ['y', 10, 19],
    ]);
  });

  it('reports an incomplete event as a ParseError with a code, an offset and a message', () => {
    const errors: ParseError[] = [];
    const parser = createParser({ onEvent: () => {}, onError: (error) => errors.push(error) });
    parser.feed('data: a\n\nevent: x\ndata: half');
    parser.end();
    const [error] = errors;
    expect(error).toBeInstanceOf(ParseError);
    expect(error?.code).toBe('INVALID_EVENT');
    expect(error?.type).toBe('incomplete-event');
    expect(error?.byteOffset).toBe(9);
    expect(error?.message).toMatch(/^\[tapedeck\] .*byte 9/);
    expect(new TextDecoder().decode(error?.bytes)).toBe('event: x\ndata: half');
  });

  it('reset() forgets the partial event, the last id and the offsets', () => {
    const seen: ParsedEvent[] = [];
    const parser = createParser({ onEvent: (event) => seen.push(event) });
    parser.feed('id: 1\ndata: a\n\ndata: partial');
    parser.reset();
    parser.feed('data: b\n\n');
    expect(seen.map(({ data, id, byteStart, index }) => ({ data, id, byteStart, index }))).toEqual([
      { data: 'a', id: '1', byteStart: 0, index: 0 },
      { data: 'b', id: '', byteStart: 0, index: 0 },
    ]);
  });

  it('keeps event types apart when many types alternate', () => {
    const types = Array.from({ length: 10 }, (_, i) => `type-${'é'.repeat(i % 3)}${i}`);
    const sequence = [...types, ...types.slice().reverse(), 'type-0', 'type-1', 'type-0'];
    const { events } = collect([
      sequence.map((type) => `event: ${type}\ndata: ${type}\n\n`).join(''),
    ]);
    expect(events.map((event) => event.type)).toEqual(sequence);
    expect(events.map((event) => event.data)).toEqual(sequence);
  });

  it('can be reused after end()', () => {
    const seen: string[] = [];
    const parser = createParser({ onEvent: (event) => seen.push(`${event.index}:${event.data}`) });
    parser.feed('data: a\n\n');
    parser.end();
    parser.feed('data: b\n\n');
    parser.end();
    expect(seen).toEqual(['0:a', '0:b']);
  });

  it('keeps data intact when the caller feeds Buffers and subarrays of a larger buffer', () => {
    const big = bytesOf('xxxxdata: inner\n\nyyyy');
    const { events } = collect([big.subarray(4, 12), big.subarray(12, 17)]);
    expect(events).toMatchObject([{ data: 'inner', byteStart: 0, byteEnd: 13 }]);
  });

  it('rejects a missing onEvent or a non-positive maxEventBytes with INVALID_ARGUMENT', () => {
    expect(() => createParser({} as never)).toThrow(/onEvent/);
    expect(() => createParser({ onEvent: () => {}, maxEventBytes: 0 })).toThrow(/maxEventBytes/);
  });
});

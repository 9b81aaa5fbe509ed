import { describe, expect, it } from 'vitest';
import { collect, createRandom, splitRandomly } from '../test/helpers.js';
import { createParser, type ParsedEvent, type ParseError, type ParserMode } from './index.js';

const encoder = new TextEncoder();
const MiB = 1024 * 1024;

describe.each(['full', 'framing'] as const)('maxEventBytes (%s mode)', (mode: ParserMode) => {
  it('a 100 MB line never holds more than maxEventBytes, and parsing resumes after it', () => {
    const events: ParsedEvent[] = [];
    const errors: ParseError[] = [];
    const parser = createParser({
      mode,
      maxEventBytes: MiB,
      onEvent: (event) => events.push(event),
      onError: (error) => errors.push(error),
    });
    // One 64 KiB block of 'x' fed 1600 times: 100 MiB of line without allocating it.
    const block = new Uint8Array(64 * 1024).fill(0x78);
    const feeds = 1600;
    let maxHeld = 0;
    const feed = (chunk: Uint8Array) => {
      parser.feed(chunk);
      maxHeld = Math.max(maxHeld, parser.bufferedBytes());
    };
    feed(encoder.encode('data: before\n\ndata: '));
    for (let i = 0; i < feeds; i++) feed(block);
    feed(encoder.encode('\n\ndata: after\n\n'));
    parser.end();

    expect(maxHeld).toBeLessThanOrEqual(MiB);
    expect(errors.map((error) => [error.type, error.code, error.byteOffset])).toEqual([
      ['event-too-large', 'SSE_LIMIT_EXCEEDED', 14],
    ]);
    expect(errors[0]?.message).toMatch(
      /^\[tapedeck\] SSE event at byte 14 is larger than maxEventBytes/,
    );
    const afterStart = 14 + 6 + feeds * block.length + 2;
    expect(
      events.map(({ data, byteStart, byteEnd, index }) => ({ data, byteStart, byteEnd, index })),
    ).toEqual([
      { data: 'before', byteStart: 0, byteEnd: 14, index: 0 },
      { data: 'after', byteStart: afterStart, byteEnd: afterStart + 13, index: 1 },
    ]);
  });

  it('drops an oversized event whole (its id too) the same way whatever the chunking', () => {
    const input = encoder.encode(
      `id: 1\ndata: ok\n\nid: 2\ndata: ${'y'.repeat(300)}\r\n\r\ndata: next\n\n: tail\n\n`,
    );
    const expected = collect([input], { mode, maxEventBytes: 100 });
    expect(expected.events.map(({ data, id, index }) => ({ data, id, index }))).toEqual([
      { data: 'ok', id: '1', index: 0 },
      { data: 'next', id: '1', index: 1 },
    ]);
    expect(expected.errors).toEqual([
      { type: 'event-too-large', code: 'SSE_LIMIT_EXCEEDED', byteOffset: 16 },
    ]);
    const random = createRandom(7);
    for (let round = 0; round < 200; round++) {
      const split = collect(splitRandomly(input, random), { mode, maxEventBytes: 100 });
      expect(split.events).toEqual(expected.events);
      expect(split.errors).toEqual(expected.errors);
    }
  });

  it('counts the whole event, blank line included, against the limit', () => {
    const event = 'data: 12345\n\n'; // 13 bytes
    expect(collect([event], { mode, maxEventBytes: 13 }).events).toHaveLength(1);
    expect(collect([event], { mode, maxEventBytes: 12 }).errors).toMatchObject([
      { type: 'event-too-large' },
    ]);
  });

  it('an oversized event at the end of the stream is reported once, not also as incomplete', () => {
    const result = collect([`data: ${'z'.repeat(500)}`], { mode, maxEventBytes: 100 });
    expect(result.errors.map((error) => error.type)).toEqual(['event-too-large']);
  });
});

describe('framing mode', () => {
  it('decodes data on access, also when it spans chunks and lines', () => {
    const { events } = collect(['data: héllo\ndata: wör', 'ld\n\n'], { mode: 'framing' });
    expect(events[0]?.data).toBe('héllo\nwörld');
  });

  it('serialises with JSON.stringify like a full-mode event', () => {
    const events: ParsedEvent[] = [];
    const parser = createParser({ mode: 'framing', onEvent: (event) => events.push(event) });
    parser.feed('retry: 5\nevent: t\ndata: d\n\n');
    expect(JSON.parse(JSON.stringify(events[0]))).toEqual({
      type: 't',
      data: 'd',
      id: '',
      retry: 5,
      comments: [],
      byteStart: 0,
      byteEnd: 27,
      index: 0,
    });
  });
});

describe('small pieces', () => {
  it('a long event fed a few bytes at a time comes out whole, and so do the bytes of an incomplete one', () => {
    const value = 'é'.repeat(50_000) + 'x'.repeat(50_000);
    const bytes = encoder.encode(`data: ${value}\n\ndata: ${value}`);
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 3) pieces.push(bytes.subarray(i, i + 3));
    const { events, errors } = collect(pieces);
    expect(events.map((event) => event.data)).toEqual([value]);
    expect(errors).toHaveLength(1);
    const incomplete = errors[0]?.bytes ?? '';
    expect(incomplete.length).toBe(bytes.length - (events[0]?.byteEnd ?? 0));
  });

  it('copies what it caches from a Node Buffer, so reusing the Buffer cannot change later events', () => {
    const seen: string[] = [];
    const parser = createParser({ onEvent: (event) => seen.push(event.type) });
    const reused = Buffer.alloc(32);
    for (const text of ['event: alpha\ndata: 1\n\n', 'event: alpha\ndata: 2\n\n']) {
      reused.fill(0);
      reused.write(text);
      parser.feed(reused.subarray(0, Buffer.byteLength(text)));
    }
    // Had the parser kept a view of "alpha" in `reused`, this would turn it into "omega" and the
    // next event would wrongly come out as "alpha".
    reused.write('event: omega');
    parser.feed('event: omega\ndata: 3\n\n');
    expect(seen).toEqual(['alpha', 'alpha', 'omega']);
  });
});

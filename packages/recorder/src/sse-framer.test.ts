import { createParser } from '@tapedeck/sse';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventDataFromBytes, unpackCompactEvents } from './sqlite-core.mjs';
import { createFramer, type FramedEvent } from './sse-framer.mjs';

const encoder = new TextEncoder();

function reference(bytes: Uint8Array, cuts: number[]) {
  const events: unknown[] = [];
  const parser = createParser({
    onEvent: ({ type, id, retry, byteStart, byteEnd, data }) =>
      events.push({
        type,
        id,
        byteStart,
        byteEnd,
        data,
        ...(retry === undefined ? {} : { retry }),
      }),
  });
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > start) parser.feed(bytes.subarray(start, cut));
    start = Math.max(start, cut);
  }
  parser.end();
  return events;
}

function framed(bytes: Uint8Array, cuts: number[]) {
  const framer = createFramer();
  const events: FramedEvent[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > start) events.push(...framer.feed(bytes.subarray(start, cut), 0));
    start = Math.max(start, cut);
  }
  events.push(...framer.end(0));
  return events.map(({ index: _index, offsetMs: _offsetMs, ...event }) => ({
    ...event,
    data: eventDataFromBytes(bytes.subarray(event.byteStart, event.byteEnd), event.byteStart === 0),
  }));
}

const line = fc.oneof(
  fc.constantFrom(
    'data: x',
    'data:y',
    'data',
    'data: ',
    'event: ping',
    'event:',
    'id: 7',
    'id',
    'retry: 1500',
    'retry: 1x',
    ': comment',
    ':',
    'unknown: v',
    'dat: no',
    'data: 😀 ü',
    // Names that start like a field but are longer or shorter, and values the framer caches.
    'datax: y',
    'ids: 3',
    'i',
    'eventx: t',
    'even: t',
    'retry',
    'retry:',
    'retryx: 5',
    'id: a\u0000b',
    'event: pong',
    'event:  two',
    'id: 8',
  ),
  fc.string({ maxLength: 6 }).map((text) => `data: ${text}`),
  fc.string({ maxLength: 6 }),
);
const ending = fc.constantFrom('\n', '\r', '\r\n');
const stream = fc
  .tuple(fc.boolean(), fc.array(fc.tuple(line, ending), { maxLength: 30 }))
  .map(
    ([bom, lines]) => `${bom ? '\uFEFF' : ''}${lines.map(([text, end]) => text + end).join('')}`,
  );

// Streams as LLM APIs write them, `event: <type>` and `data: <json>` blocks (or data-only ones),
// which the framer takes by its fast path, with the deviations that must leave it: another
// type, an id or retry line, a comment, a CR, an event line after the data, `data` without a
// colon, a data line with no blank line after it.
const llmBlock = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('event: response.output_text.delta\ndata: {"d":"x"}\n\n'),
  },
  {
    weight: 3,
    arbitrary: fc.string({ maxLength: 8 }).map((text) => `data: {"t":${JSON.stringify(text)}}\n\n`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'event: response.completed\ndata: {}\n\n',
      'event:response.output_text.delta\ndata:{}\n\n',
      'event: response.output_text.delta\nid: 9\ndata: {}\n\n',
      'event: response.output_text.delta\ndata: {}\nretry: 30\n\n',
      ': keep-alive\n\n',
      ': x\ndata: {}\n\n',
      'event: response.output_text.delta\r\ndata: {}\r\n\r\n',
      'event: response.output_text.delta\ndata: a\rb\n\n',
      'event: response.output_text.delta\ndata: a\r\rb\n\n',
      'data: a\r\rdata: b\n\n',
      'data: {}\nevent: ping\n\n',
      'event: response.output_text.delta\ndata\n\n',
      'event: response.output_text.delta\ndata: 1\ndata: 2\n\n',
      'data: [DONE]\n\n',
      'event: response.output_text.delta\n\n',
      '\n',
    ),
  },
);
const llmStream = fc
  .tuple(fc.boolean(), fc.array(llmBlock, { maxLength: 40 }), fc.constantFrom('', 'data: cut'))
  .map(([bom, blocks, rest]) => `${bom ? '\uFEFF' : ''}${blocks.join('')}${rest}`);

describe('createFramer (the writer thread’s framer)', () => {
  it('frames LLM-shaped streams (its fast path and every way out of it) as @tapedeck/sse does', () => {
    fc.assert(
      fc.property(llmStream, fc.array(fc.nat(2000), { maxLength: 8 }), (text, rawCuts) => {
        const bytes = encoder.encode(text);
        const cuts = rawCuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b);
        expect(framed(bytes, cuts)).toEqual(reference(bytes, cuts));
      }),
      { numRuns: 500 },
    );
  });

  it('takeCompact holds what take gives, in the store’s compact encoding', () => {
    fc.assert(
      fc.property(llmStream, stream, fc.nat(5), (llm, other, offsetMs) => {
        // LLM-shaped bytes, then any lines (ids, retries, other types): one take of both.
        const bytes = encoder.encode(llm + other);
        const events = createFramer().feed(bytes, offsetMs);
        const compacting = createFramer();
        compacting.add(bytes, offsetMs);
        const compact = compacting.takeCompact();
        expect(compact.count).toBe(events.length);
        expect(unpackCompactEvents(compact)).toEqual(
          events.map((event) => ({ ...event, data: undefined })),
        );
        // The next take starts where this one ended.
        compacting.add(encoder.encode('data: next\n\n'), 9);
        expect(compacting.takeCompact().firstIndex).toBe(events.length);
      }),
      { numRuns: 300 },
    );
  });

  it('finds the same events, ranges, types, ids and retries as @tapedeck/sse for any chunking', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(400), { maxLength: 8 }), (text, rawCuts) => {
        const bytes = encoder.encode(text);
        const cuts = rawCuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b);
        expect(framed(bytes, cuts)).toEqual(reference(bytes, cuts));
      }),
      { numRuns: 400 },
    );
  });

  it('keeps a CRLF split across chunks inside the event it ends', () => {
    const bytes = encoder.encode('data: a\r\n\r\ndata: b\r\r');
    expect(framed(bytes, [10, 11])).toEqual(reference(bytes, [10, 11]));
    expect(framed(bytes, [10, 11]).map((event) => event.byteEnd)).toEqual([11, 20]);
  });

  it('keeps no view of a fed chunk: the caller may overwrite it at once', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(400), { maxLength: 8 }), (text, rawCuts) => {
        const bytes = encoder.encode(text);
        const cuts = rawCuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b);
        const framer = createFramer();
        const events: FramedEvent[] = [];
        let start = 0;
        for (const cut of [...cuts, bytes.length]) {
          if (cut > start) {
            // One reused buffer for every chunk, scribbled over after each feed.
            const scratch = bytes.slice(start, cut);
            events.push(...framer.feed(scratch, 0));
            scratch.fill(0x0a);
          }
          start = Math.max(start, cut);
        }
        events.push(...framer.end(0));
        expect(events.map(({ index: _index, offsetMs: _offsetMs, ...event }) => event)).toEqual(
          framed(bytes, cuts).map(({ data: _data, ...event }) => event),
        );
      }),
      { numRuns: 400 },
    );
  });

  it('add then take gives what feed gives, chunk by chunk', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(400), { maxLength: 8 }), (text, rawCuts) => {
        const bytes = encoder.encode(text);
        const cuts = rawCuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b);
        const feeding = createFramer();
        const adding = createFramer();
        const fed: FramedEvent[] = [];
        let start = 0;
        for (const [index, cut] of [...cuts, bytes.length].entries()) {
          if (cut > start) {
            fed.push(...feeding.feed(bytes.subarray(start, cut), index));
            adding.add(bytes.subarray(start, cut), index);
          }
          start = Math.max(start, cut);
        }
        expect(adding.take()).toEqual(fed);
        expect(adding.end(99)).toEqual(feeding.end(99));
      }),
      { numRuns: 300 },
    );
  });
});

import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createParser } from '@tapedeck/sse';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instrumentStream } from '../src/index.js';
import { readAll, steppingClock } from './helpers.js';

// A chunk that is exactly one event laid out like one the parser already read (`event: <type>`,
// `data: <value>`, blank line) skips the SSE parser. Whatever the chunking, the span must show
// exactly the events @tapedeck/sse finds in the same bytes: type, id, index and data length.

const encoder = new TextEncoder();

const value = fc
  .string({ unit: 'grapheme', maxLength: 12 })
  .map((text) => text.replace(/[\r\n]/g, ' '));
const lineEnd = fc.constantFrom('\n', '\r\n');
const block = fc.oneof(
  // The layout the fast path takes, most of the time.
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom('delta', 'message', 'done'), value)
      .map(([type, data]) => `event: ${type}\ndata: ${data}\n\n`),
  },
  { weight: 1, arbitrary: value.map((data) => `data: ${data}\n\n`) },
  // Everything else an event stream may hold.
  {
    weight: 3,
    arbitrary: fc
      .record({
        type: fc.option(fc.constantFrom('delta', 'message', 'done', ''), { nil: undefined }),
        spaced: fc.boolean(),
        id: fc.option(
          fc.string({ maxLength: 3 }).map((id) => id.replace(/[\r\n\0]/g, '')),
          {
            nil: undefined,
          },
        ),
        idAfterData: fc.boolean(),
        data: fc.array(value, { maxLength: 2 }),
        comment: fc.boolean(),
        end: lineEnd,
      })
      .map(({ type, spaced, id, idAfterData, data, comment, end }) => {
        const lines: string[] = [];
        if (comment) lines.push(': keep-alive');
        if (type !== undefined) lines.push(spaced ? `event: ${type}` : `event:${type}`);
        const idLine = id === undefined ? [] : [`id: ${id}`];
        if (!idAfterData) lines.push(...idLine);
        for (const text of data) lines.push(`data: ${text}`);
        if (idAfterData) lines.push(...idLine);
        return `${lines.map((line) => line + end).join('')}${end}`;
      }),
  },
);

// How each block travels: alone in its chunk, glued to the next, or cut in two.
const delivery = fc.array(
  fc.record({ how: fc.constantFrom('alone', 'alone', 'alone', 'glued', 'cut'), at: fc.nat() }),
);

function chunksOf(blocks: string[], plan: Array<{ how: string; at: number }>): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let glued = '';
  for (const [index, text] of blocks.entries()) {
    const { how, at } = plan[index % Math.max(1, plan.length)] ?? { how: 'alone', at: 0 };
    const whole = glued + text;
    glued = '';
    const bytes = encoder.encode(whole);
    if (how === 'glued') glued = whole;
    else if (how === 'cut' && bytes.length > 1) {
      // Cut the bytes, not the text: a chunk may end inside a UTF-8 sequence.
      const cut = 1 + (at % (bytes.length - 1));
      chunks.push(bytes.subarray(0, cut), bytes.subarray(cut));
    } else chunks.push(bytes);
  }
  if (glued) chunks.push(encoder.encode(glued));
  return chunks;
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[index++];
        if (chunk === undefined) controller.close();
        else controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
}

function parsedEvents(text: string) {
  const events: Array<{ type: string; id: string; index: number; dataLength: number }> = [];
  const parser = createParser({
    onEvent: (event) =>
      events.push({
        type: event.type,
        id: event.id,
        index: event.index,
        dataLength: event.data.length,
      }),
  });
  parser.feed(encoder.encode(text));
  parser.end();
  return events;
}

describe('a chunk that is one whole event', () => {
  it('yields the events @tapedeck/sse finds in the same bytes, however they are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(block, { maxLength: 30 }), delivery, async (blocks, plan) => {
        const exporter = new InMemorySpanExporter();
        const provider = new BasicTracerProvider({
          spanProcessors: [new SimpleSpanProcessor(exporter)],
          spanLimits: { eventCountLimit: 1000 },
        });
        const chunks = chunksOf(blocks, plan);
        const traced = instrumentStream(streamOf(chunks), {
          tracerProvider: provider,
          family: 'sse',
          events: 'all',
          maxSpanEvents: 1000,
          _internal: { now: steppingClock().now },
        });
        const text = blocks.join('');
        // The consumer's bytes are untouched either way.
        expect(await readAll(traced)).toBe(text);
        const [span] = exporter.getFinishedSpans();
        const recorded = (span?.events ?? [])
          .filter((event) => event.name !== 'tapedeck.stream_end')
          .map((event) => ({
            type: event.attributes?.['sse.event'],
            id: event.attributes?.['sse.id'] ?? '',
            index: event.attributes?.['tapedeck.event.index'],
            dataLength: event.attributes?.['tapedeck.data_length'],
          }));
        expect(recorded).toEqual(parsedEvents(text));
        await provider.shutdown();
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with @tapedeck/sse on any bytes, invalid UTF-8 and stray CR or LF included', async () => {
    const anyBytes = fc.uint8Array({ maxLength: 12 }).map((bytes) =>
      // Mostly text-like bytes, with CR, LF and invalid sequences in the mix.
      bytes.map((byte) =>
        byte % 5 === 0 ? ([10, 13, 0xc3, 0xff, 0xe2][(byte % 25) / 5] ?? byte) : byte,
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(anyBytes, { minLength: 1, maxLength: 12 }), async (values) => {
        const exporter = new InMemorySpanExporter();
        const provider = new BasicTracerProvider({
          spanProcessors: [new SimpleSpanProcessor(exporter)],
          spanLimits: { eventCountLimit: 1000 },
        });
        // The first chunk teaches the layout; every later one is offered to the fast path.
        const chunks = [encoder.encode('event: delta\ndata: first\n\n')];
        for (const bytes of values) {
          const prefix = encoder.encode('event: delta\ndata: ');
          const chunk = new Uint8Array(prefix.length + bytes.length + 2);
          chunk.set(prefix);
          chunk.set(bytes, prefix.length);
          chunk.set([10, 10], prefix.length + bytes.length);
          chunks.push(chunk);
        }
        const traced = instrumentStream(streamOf(chunks), {
          tracerProvider: provider,
          family: 'sse',
          events: 'all',
          maxSpanEvents: 1000,
          _internal: { now: steppingClock().now },
        });
        await readAll(traced);
        const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
        let offset = 0;
        for (const chunk of chunks) {
          all.set(chunk, offset);
          offset += chunk.length;
        }
        const expected: Array<{ type: string; index: number; dataLength: number }> = [];
        const parser = createParser({
          onEvent: (event) =>
            expected.push({ type: event.type, index: event.index, dataLength: event.data.length }),
        });
        parser.feed(all);
        parser.end();
        const [span] = exporter.getFinishedSpans();
        const recorded = (span?.events ?? [])
          .filter((event) => event.name !== 'tapedeck.stream_end')
          .map((event) => ({
            type: event.attributes?.['sse.event'],
            index: event.attributes?.['tapedeck.event.index'],
            dataLength: event.attributes?.['tapedeck.data_length'],
          }));
        expect(recorded).toEqual(expected);
        await provider.shutdown();
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the last event id of the stream for events that carry none', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const chunks = [
      'event: delta\ndata: a\n\n',
      'event: delta\ndata: b\n\n',
      // An id with no data dispatches nothing, but the next events carry it.
      'id: 7\n\n',
      'event: delta\ndata: c\n\n',
      'event: delta\ndata: d\n\n',
    ].map((chunk) => encoder.encode(chunk));
    const traced = instrumentStream(streamOf(chunks), {
      tracerProvider: provider,
      family: 'sse',
      events: 'all',
      _internal: { now: steppingClock().now },
    });
    await readAll(traced);
    const events = exporter.getFinishedSpans()[0]?.events ?? [];
    expect(events.slice(0, 4).map((event) => event.attributes?.['sse.id'])).toEqual([
      undefined,
      undefined,
      '7',
      '7',
    ]);
    expect(events.slice(0, 4).map((event) => event.attributes?.['tapedeck.event.index'])).toEqual([
      0, 1, 2, 3,
    ]);
    await provider.shutdown();
  });
});

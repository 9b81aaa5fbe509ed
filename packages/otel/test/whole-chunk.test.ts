import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createParser } from '@tapedeck/sse';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instrumentStream } from '../src/index.js';
import { readAll, steppingClock, streamOf } from './helpers.js';

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

/** `chunks` traced with every SSE event as a span event, exported to memory. */
function tracedEveryEvent(chunks: Uint8Array[]) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    spanLimits: { eventCountLimit: 1000 },
  });
  const traced = instrumentStream(streamOf(chunks), {
    tracerProvider: provider,
    family: 'sse',
    events: 'all',
    maxSpanEvents: 1000,
    _internal: { now: steppingClock().now },
  });
  return { exporter, provider, traced };
}

describe('a chunk that is one whole event', () => {
  it('yields the events @tapedeck/sse finds in the same bytes, however they are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(block, { maxLength: 30 }), delivery, async (blocks, plan) => {
        const chunks = chunksOf(blocks, plan);
        const { exporter, provider, traced } = tracedEveryEvent(chunks);
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
        const { exporter, provider, traced } = tracedEveryEvent(chunks);
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

// A delta in a chunk of its own, laid out like the stream's earlier deltas, is read from the
// chunk's text without a data string or the frame check of its own (`wholeChunkDelta`). The
// telemetry must be what the parser path gives for the same events in one chunk.
describe('a delta read from the text of its own chunk', () => {
  const delta = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constantFrom('\\', '"', '\n', '\r\n', '\u2028', '😀') },
  );
  // Mostly the steady layout, now and then another item, part or key order, or a raw line
  // break in the value (more lines: an id line, and the rest of the data on a line of its own).
  const step = fc.record({
    delta,
    item: fc.constantFrom('msg_1', 'msg_1', 'msg_1', 'msg_1', 'msg_2'),
    contentIndex: fc.constantFrom(0, 0, 0, 0, 1),
    reordered: fc.constantFrom(false, false, false, false, false, true),
    brokenLine: fc.constantFrom('no', 'no', 'no', 'no', 'no', 'no', 'first', 'last'),
  });

  function streamText(steps: Array<typeof step extends fc.Arbitrary<infer T> ? T : never>) {
    let sequence = 0;
    const event = (type: string, payload: Record<string, unknown>) =>
      `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...payload })}\n\n`;
    const blocks = [
      event('response.created', { response: { id: 'resp_1', model: 'm', status: 'in_progress' } }),
      event('response.output_item.added', {
        output_index: 0,
        item: { type: 'message', id: 'msg_1' },
      }),
    ];
    for (const { delta, item, contentIndex, reordered, brokenLine } of steps) {
      const type = 'response.output_text.delta';
      const payload = reordered
        ? { type, delta, item_id: item, output_index: 0, content_index: contentIndex }
        : { type, sequence_number: sequence, item_id: item, output_index: 0 };
      let data = reordered
        ? JSON.stringify({ ...payload, sequence_number: sequence })
        : JSON.stringify({ ...payload, content_index: contentIndex, delta, logprobs: [] });
      sequence += 1;
      if (brokenLine !== 'no') {
        const at = brokenLine === 'first' ? data.indexOf(',') : data.lastIndexOf(',');
        // An id line inside: the parser keeps it for the events after this one.
        data = `${data.slice(0, at + 1)}\nid: 7\ndata: ${data.slice(at + 1)}`;
      }
      blocks.push(`event: ${type}\ndata: ${data}\n\n`);
    }
    blocks.push(
      event('response.completed', {
        response: {
          id: 'resp_1',
          status: 'completed',
          usage: { input_tokens: 1, output_tokens: 2 },
        },
      }),
    );
    return blocks;
  }

  // What does not depend on when each chunk arrived.
  const timeless = (attributes: Record<string, unknown> = {}) =>
    Object.fromEntries(
      Object.entries(attributes).filter(
        ([key]) => !/(_ms|time_to_first_chunk)$/.test(key) && key !== 'tapedeck.chunk.count',
      ),
    );

  async function telemetryOf(chunks: Uint8Array[], events: 'coalesce' | 'lifecycle') {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const traced = instrumentStream(streamOf(chunks), {
      tracerProvider: provider,
      events,
      deltaBatchSize: 3,
      request: { url: 'https://openrouter.ai/api/v1/responses', method: 'POST' },
      _internal: { now: steppingClock().now },
    });
    const text = await readAll(traced);
    const span = exporter.getFinishedSpans().find((finished) => finished.kind === 2);
    await provider.shutdown();
    return {
      text,
      attributes: timeless(span?.attributes),
      events: (span?.events ?? []).map((event) => ({
        name: event.name,
        attributes: timeless(event.attributes),
      })),
    };
  }

  it('records what the parser path records for the same events, in either mode', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.constantFrom('coalesce' as const, 'lifecycle' as const),
        async (steps, events) => {
          const blocks = streamText(steps);
          const oneEach = await telemetryOf(
            blocks.map((block) => encoder.encode(block)),
            events,
          );
          const together = await telemetryOf([encoder.encode(blocks.join(''))], events);
          expect(oneEach.text).toBe(blocks.join(''));
          expect(oneEach.attributes).toEqual(together.attributes);
          expect(oneEach.events).toEqual(together.events);
          expect(oneEach.attributes['tapedeck.event.count']).toBe(blocks.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentStream } from '../src/index.js';
import type { InstrumentOptions } from '../src/types.js';
import { createTestTelemetry, readAll, steppingClock } from './helpers.js';

let telemetry: ReturnType<typeof createTestTelemetry>;
afterEach(() => telemetry.shutdown());

const encoder = new TextEncoder();

function sse(type: string, payload: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
}

/** An OpenResponses stream with `items` message items of `deltasPerItem` deltas each. */
function bigStream({ items = 1, deltasPerItem = 5_000 } = {}): string[] {
  let sequence = 0;
  const next = () => sequence++;
  const response = { id: 'resp_big', model: 'openai/gpt-4o-mini', status: 'in_progress' };
  const parts = [
    sse('response.created', { sequence_number: next(), response }),
    sse('response.in_progress', { sequence_number: next(), response }),
  ];
  for (let index = 0; index < items; index += 1) {
    const item = { type: 'message', id: `msg_${index}`, role: 'assistant', content: [] };
    const where = { item_id: item.id, output_index: index, content_index: 0 };
    parts.push(
      sse('response.output_item.added', { sequence_number: next(), output_index: index, item }),
    );
    parts.push(sse('response.content_part.added', { sequence_number: next(), ...where, part: {} }));
    for (let delta = 0; delta < deltasPerItem; delta += 1) {
      parts.push(
        sse('response.output_text.delta', { sequence_number: next(), ...where, delta: 'ab' }),
      );
    }
    parts.push(sse('response.output_text.done', { sequence_number: next(), ...where, text: '' }));
    parts.push(sse('response.content_part.done', { sequence_number: next(), ...where, part: {} }));
    parts.push(
      sse('response.output_item.done', { sequence_number: next(), output_index: index, item }),
    );
  }
  parts.push(
    sse('response.completed', {
      sequence_number: next(),
      response: { ...response, status: 'completed', usage: { input_tokens: 1, output_tokens: 2 } },
    }),
  );
  return parts;
}

async function trace(parts: string[], options: InstrumentOptions = {}): Promise<ReadableSpan> {
  telemetry = createTestTelemetry();
  // Several events per chunk, as a fast upstream sends them.
  const chunks: string[] = [];
  for (let index = 0; index < parts.length; index += 7)
    chunks.push(parts.slice(index, index + 7).join(''));
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  const traced = instrumentStream(source, {
    tracerProvider: telemetry.tracerProvider,
    request: { url: 'https://openrouter.ai/api/v1/responses', method: 'POST' },
    _internal: { now: steppingClock({ stepMs: 3 }).now },
    ...options,
  });
  expect(await readAll(traced)).toBe(parts.join(''));
  const [span] = telemetry.streamSpans();
  return span!;
}

function names(span: ReadableSpan) {
  return span.events.map((event) => event.name);
}

const LIFECYCLE = [
  'response.created',
  'response.in_progress',
  'response.output_item.added',
  'response.content_part.added',
  'response.output_text.done',
  'response.content_part.done',
  'response.output_item.done',
  'response.completed',
];

describe('the span-event budget', () => {
  it('coalesce: 5,000 deltas keep every lifecycle event and stay under 128', async () => {
    const span = await trace(bigStream());
    expect(span.events.length).toBeLessThanOrEqual(128);
    // The SDK dropped nothing, so nothing old (response.created) was pushed out.
    expect(span.droppedEventsCount).toBe(0);
    const eventNames = names(span);
    expect(eventNames.filter((name) => !name.startsWith('tapedeck.'))).toEqual(LIFECYCLE);
    expect(eventNames.at(-1)).toBe('tapedeck.stream_end');
    const batches = span.events.filter((event) => event.name === 'tapedeck.delta_batch');
    expect(batches.length).toBeGreaterThan(1);
    const counts = batches.map((event) => Number(event.attributes?.['tapedeck.batch.count']));
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(5_000);
    const characters = batches.map((event) =>
      Number(event.attributes?.['tapedeck.batch.characters']),
    );
    expect(characters.reduce((sum, count) => sum + count, 0)).toBe(10_000);
    // Batches tile the delta sequence numbers without overlap or holes.
    let expectedFirst = 4;
    for (const batch of batches) {
      expect(batch.attributes?.['tapedeck.batch.first_sequence_number']).toBe(expectedFirst);
      expectedFirst = Number(batch.attributes?.['tapedeck.batch.last_sequence_number']) + 1;
    }
    expect(expectedFirst).toBe(5_004);
    expect(span.attributes).toMatchObject({
      'tapedeck.event.count': 5_008,
      'tapedeck.delta.count': 5_000,
      'tapedeck.delta.characters': 10_000,
      'tapedeck.span_events.dropped': 0,
      'tapedeck.sequence.last': 5_007,
      'tapedeck.sequence.gaps': 0,
      'tapedeck.end_reason': 'completed',
    });
  });

  it('coalesce: 100,000 deltas still fit, batches grow instead', async () => {
    const span = await trace(bigStream({ deltasPerItem: 100_000 }));
    expect(span.events.length).toBeLessThanOrEqual(128);
    expect(span.droppedEventsCount).toBe(0);
    expect(names(span).filter((name) => !name.startsWith('tapedeck.'))).toEqual(LIFECYCLE);
    const batches = span.events.filter((event) => event.name === 'tapedeck.delta_batch');
    const total = batches.reduce(
      (sum, event) => sum + Number(event.attributes?.['tapedeck.batch.count']),
      0,
    );
    expect(total).toBe(100_000);
    expect(span.attributes['tapedeck.span_events.dropped']).toBe(0);
  }, 60_000);

  it('more lifecycle events than the limit: created and completed survive, counted drops', async () => {
    const span = await trace(bigStream({ items: 40, deltasPerItem: 3 }));
    expect(span.events.length).toBeLessThanOrEqual(128);
    expect(span.droppedEventsCount).toBe(0);
    const eventNames = names(span);
    expect(eventNames[0]).toBe('response.created');
    expect(eventNames).toContain('response.completed');
    expect(eventNames.at(-1)).toBe('tapedeck.stream_end');
    expect(span.attributes['tapedeck.span_events.dropped']).toBeGreaterThan(0);
  });

  it('lifecycle: no deltas at all, each counted as dropped', async () => {
    const span = await trace(bigStream({ deltasPerItem: 500 }), { events: 'lifecycle' });
    expect(names(span)).toEqual([...LIFECYCLE, 'tapedeck.stream_end']);
    expect(span.attributes['tapedeck.span_events.dropped']).toBe(500);
    expect(span.attributes['tapedeck.delta.count']).toBe(500);
  });

  it('all: every event, so the SDK drops the oldest past its limit (documented cost)', async () => {
    const span = await trace(bigStream({ deltasPerItem: 300 }), { events: 'all' });
    expect(span.events).toHaveLength(128);
    expect(span.droppedEventsCount).toBe(309 - 128);
    expect(names(span)[0]).not.toBe('response.created');
    expect(span.attributes['tapedeck.span_events.dropped']).toBe(309 - 128);
  });

  it('all, with a raised limit: one span event per SSE event', async () => {
    const span = await trace(bigStream({ deltasPerItem: 300 }), {
      events: 'all',
      maxSpanEvents: 1_000,
    });
    // The SDK's own limit (128) still applies unless the provider raises it.
    expect(span.droppedEventsCount).toBe(309 - 128);
    expect(span.attributes['tapedeck.span_events.dropped']).toBe(0);
  });
});

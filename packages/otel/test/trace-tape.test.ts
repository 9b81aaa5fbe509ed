import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createParser } from '@tapedeck/sse';
import { type Tape, type TapeEvent, tapeSchema, toTapeEvent } from '@tapedeck/types';
import { afterEach, describe, expect, it } from 'vitest';
import { traceTape } from '../src/index.js';
import { createTestTelemetry, fixtureEvents } from './helpers.js';

let telemetry: ReturnType<typeof createTestTelemetry>;
afterEach(() => telemetry.shutdown());

const STARTED_AT = 1_763_700_000_123;

/** A tape as the recorder stores it: one chunk per event, 40 ms apart, parsed by @tapedeck/sse. */
function tapeFrom(
  fixture: string,
  overrides: Partial<Tape> = {},
  url = 'https://openrouter.ai/api/v1/responses',
): Tape {
  const encoder = new TextEncoder();
  const parts = fixtureEvents(fixture).map((part) => encoder.encode(part));
  const raw = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  const chunks: Tape['chunks'] = [];
  const events: TapeEvent[] = [];
  let offsetMs = 0;
  let position = 0;
  const parser = createParser({
    onEvent(event) {
      events.push(toTapeEvent(event, offsetMs));
    },
  });
  for (const [index, part] of parts.entries()) {
    offsetMs = 250 + index * 40;
    raw.set(part, position);
    position += part.byteLength;
    chunks.push({ offsetMs, byteLength: part.byteLength });
    parser.feed(part);
  }
  parser.end();
  return tapeSchema.parse({
    schemaVersion: 1,
    spanId: '00f067aa0ba902b7',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    family: 'openresponses',
    model: 'openai/gpt-4o-mini',
    request: {
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', authorization: '[REDACTED]' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', input: 'hi', stream: true }),
    },
    requestHash: 'hash',
    response: { status: 200, statusText: 'OK', headers: { 'content-type': 'text/event-stream' } },
    startedAt: STARTED_AT,
    durationMs: offsetMs + 7,
    outcome: 'complete',
    eventCount: events.length,
    byteLength: raw.byteLength,
    firstEventMs: events[0]?.offsetMs,
    raw,
    chunks,
    events,
    ...overrides,
  });
}

function ms(time: [number, number]): number {
  return time[0] * 1000 + time[1] / 1e6;
}

function streamSpan(): ReadableSpan {
  const spans = telemetry.streamSpans();
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

describe('traceTape', () => {
  it('re-emits a tape with its original timestamps', () => {
    telemetry = createTestTelemetry();
    const tape = tapeFrom('openresponses-text');
    const result = traceTape(tape, { tracerProvider: telemetry.tracerProvider });
    const span = streamSpan();
    expect(ms(span.startTime)).toBe(STARTED_AT);
    expect(ms(span.endTime)).toBe(STARTED_AT + tape.durationMs!);
    expect(span.name).toBe('chat openai/gpt-4o-mini');
    expect(span.attributes).toMatchObject({
      'tapedeck.tape.span_id': tape.spanId,
      'tapedeck.tape.trace_id': tape.traceId,
      'gen_ai.provider.name': 'openrouter',
      'tapedeck.end_reason': 'completed',
      'tapedeck.event.count': tape.events.length,
      'tapedeck.chunk.count': tape.chunks.length,
      'tapedeck.byte.count': tape.byteLength,
      'gen_ai.response.time_to_first_chunk': tape.events[0]!.offsetMs / 1000,
      // Chunks are 40 ms apart, one event each.
      'tapedeck.gap.max_ms': 40,
      'tapedeck.gap.p50_ms': 40,
    });
    expect(span.links[0]?.context).toMatchObject({ traceId: tape.traceId, spanId: tape.spanId });

    // Every named span event sits exactly where its SSE event arrived.
    const byIndex = new Map(tape.events.map((event) => [event.index, event]));
    for (const event of span.events) {
      if (event.name === 'tapedeck.stream_end') {
        expect(ms(event.time)).toBe(STARTED_AT + tape.durationMs!);
        continue;
      }
      const index =
        event.name === 'tapedeck.delta_batch'
          ? Number(event.attributes?.['tapedeck.batch.first_index'])
          : Number(event.attributes?.['tapedeck.event.index']);
      expect(ms(event.time)).toBe(STARTED_AT + byIndex.get(index)!.offsetMs);
    }
    const item = telemetry.spans().find((candidate) => candidate.kind === SpanKind.INTERNAL);
    const added = tape.events.find((event) => event.type === 'response.output_item.added')!;
    const done = tape.events.find((event) => event.type === 'response.output_item.done')!;
    expect(ms(item!.startTime)).toBe(STARTED_AT + added.offsetMs);
    expect(ms(item!.endTime)).toBe(STARTED_AT + done.offsetMs);
    expect(result).toEqual({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      endReason: 'completed',
      jaegerUrl: `http://localhost:16686/trace/${span.spanContext().traceId}?uiFind=${span.spanContext().spanId}`,
    });
  });

  it("events: 'all' puts every SSE event at its tape time", () => {
    telemetry = createTestTelemetry();
    const tape = tapeFrom('openresponses-function-call');
    traceTape(tape, { tracerProvider: telemetry.tracerProvider, events: 'all' });
    const span = streamSpan();
    const sseEvents = span.events.filter((event) => event.name !== 'tapedeck.stream_end');
    expect(sseEvents.map((event) => ms(event.time))).toEqual(
      tape.events.map((event) => STARTED_AT + event.offsetMs),
    );
  });

  it('an http-error tape is an ERROR span with the status', () => {
    telemetry = createTestTelemetry();
    const tape = tapeFrom('openresponses-text', {
      response: { status: 503, statusText: 'Service Unavailable', headers: {} },
      outcome: 'http-error',
      error: 'HTTP 503',
      raw: new Uint8Array(0),
      chunks: [],
      events: [],
      eventCount: 0,
      byteLength: 0,
      durationMs: 80,
    });
    traceTape(tape, { tracerProvider: telemetry.tracerProvider });
    const span = streamSpan();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('503');
    expect(ms(span.endTime)).toBe(STARTED_AT + 80);
  });

  it('an aborted tape ends as consumer_abort; an upstream-error tape as stream_aborted', () => {
    telemetry = createTestTelemetry();
    const full = tapeFrom('openresponses-text');
    const cut = { events: full.events.slice(0, 5), chunks: full.chunks };
    traceTape(
      { ...full, ...cut, outcome: 'aborted' },
      { tracerProvider: telemetry.tracerProvider },
    );
    traceTape(
      { ...full, ...cut, outcome: 'upstream-error', error: 'socket hang up' },
      { tracerProvider: telemetry.tracerProvider },
    );
    const [aborted, dropped] = telemetry.streamSpans();
    expect(aborted?.attributes['tapedeck.end_reason']).toBe('consumer_abort');
    expect(aborted?.status.code).toBe(SpanStatusCode.UNSET);
    expect(dropped?.attributes['tapedeck.end_reason']).toBe('network_error');
    expect(dropped?.attributes['error.type']).toBe('stream_aborted');
    expect(dropped?.status.code).toBe(SpanStatusCode.ERROR);
  });
});

import { describe, expect, it } from 'vitest';
import { createInstruments, createStreamSpan } from '../src/stream-span.js';
import type { SpanEventsMode } from '../src/types.js';
import { createTestTelemetry } from './helpers.js';

// The end-to-end tests show the same telemetry whichever path a chunk takes, so they would still
// pass if the whole-chunk path never took a chunk. These call it directly.

const type = 'response.output_text.delta';
const prefix = `event: ${type}\ndata: `;

function deltaData(sequence: number, text: string): string {
  return JSON.stringify({
    type,
    sequence_number: sequence,
    item_id: 'msg_1',
    output_index: 0,
    content_index: 0,
    delta: text,
  });
}

function streamSpanWithTemplate(events: SpanEventsMode) {
  const telemetry = createTestTelemetry();
  const streamSpan = createStreamSpan({
    tracer: telemetry.tracerProvider.getTracer('test'),
    instruments: createInstruments(telemetry.meterProvider.getMeter('test')),
    options: { events, captureContent: false },
    request: { url: 'https://api.openai.com/v1/responses', method: 'POST' },
    startTime: 1000,
  });
  // The first delta goes through `event`, which learns its layout.
  streamSpan.event({ type, data: deltaData(1, 'Hello'), id: '', index: 0 }, 1001);
  return { telemetry, streamSpan };
}

describe('wholeChunkDelta', () => {
  it('records a delta laid out like the one before it from the chunk text', () => {
    const { telemetry, streamSpan } = streamSpanWithTemplate('coalesce');
    expect(streamSpan.wholeChunkDelta(prefix + deltaData(2, ' world'), prefix, type, 1, 1002)).toBe(
      true,
    );
    streamSpan.end({ kind: 'done' }, 1003);
    const [span] = telemetry.streamSpans();
    expect(span?.attributes['tapedeck.event.count']).toBe(2);
    expect(span?.attributes['tapedeck.delta.count']).toBe(2);
    // Read from the chunk text: its sequence number, and ' world' added to 'Hello'.
    expect(span?.attributes['tapedeck.sequence.last']).toBe(2);
    expect(span?.attributes['tapedeck.delta.characters']).toBe(11);
  });

  it('leaves a value with a line break to the parser', () => {
    const { streamSpan } = streamSpanWithTemplate('coalesce');
    // The JSON escapes the break; this is a raw one in the data line, as a second line would be.
    const data = deltaData(2, 'two').replace('two', 'two\nlines');
    expect(streamSpan.wholeChunkDelta(prefix + data, prefix, type, 1, 1002)).toBe(false);
    // A carriage return ends an SSE line too.
    const returned = deltaData(2, 'two').replace('two', 'two\rlines');
    expect(streamSpan.wholeChunkDelta(prefix + returned, prefix, type, 1, 1002)).toBe(false);
  });

  it("leaves every delta to `event` in mode 'all'", () => {
    const { streamSpan } = streamSpanWithTemplate('all');
    expect(streamSpan.wholeChunkDelta(prefix + deltaData(2, ' world'), prefix, type, 1, 1002)).toBe(
      false,
    );
  });
});

import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentStream } from '../src/index.js';
import { createTestTelemetry, fixtureEvents, readAll, steppingClock, streamOf } from './helpers.js';

// Instrumented bodies share pooled SSE parsers across streams: these tests prove that a parser
// handed from one stream to the next carries nothing over, and that streams read side by side
// never share one.

const events = fixtureEvents('openresponses-text');
const request = { url: 'https://openrouter.ai/api/v1/responses', method: 'POST' };

let telemetry: ReturnType<typeof createTestTelemetry>;
afterEach(async () => {
  await telemetry.shutdown();
});

function instrument(chunks: string[]) {
  return instrumentStream(streamOf(chunks), {
    tracerProvider: telemetry.tracerProvider,
    events: 'all',
    request,
    _internal: { now: steppingClock().now },
  });
}

/** What a complete `openresponses-text` stream must yield, whatever ran before it. */
function expectCompleteTextStream(span: ReadableSpan | undefined) {
  expect(span?.attributes).toMatchObject({
    'tapedeck.end_reason': 'completed',
    'tapedeck.event.count': 16,
    'tapedeck.sequence.gaps': 0,
  });
  expect(span?.events[0]?.name).toBe('response.created');
  expect(span?.events[0]?.attributes?.['tapedeck.event.index']).toBe(0);
  expect(span?.events.map((event) => event.name)).not.toContain('message');
}

describe('pooled SSE parsers', () => {
  it('a stream cancelled in the middle of an event leaves nothing to the next stream', async () => {
    telemetry = createTestTelemetry();
    // The first stream stops halfway through its fourth event, after an `id:` line.
    const cut = events[3]!.slice(0, Math.floor(events[3]!.length / 2));
    const first = instrument([
      ...events.slice(0, 3),
      `id: first-stream\n${cut.slice(0, 40)}`,
      cut.slice(40),
    ]);
    const reader = first.getReader();
    for (let read = 0; read < 5; read += 1) await reader.read();
    await reader.cancel('enough');

    const second = instrument(events);
    expect(await readAll(second)).toBe(events.join(''));
    const [cancelled, complete] = telemetry.streamSpans();
    expect(cancelled?.attributes['tapedeck.end_reason']).toBe('consumer_abort');
    expectCompleteTextStream(complete);
    // The last event id is per stream: the first stream's `id:` must not reappear.
    for (const event of complete?.events ?? []) {
      expect(event.attributes?.['sse.id']).toBeUndefined();
    }
  });

  it('streams read side by side, chunk by chunk, each keep their own parser', async () => {
    telemetry = createTestTelemetry();
    // Split every event in two so both parsers hold a partial event at every switch.
    const halves = events.flatMap((event) => {
      const middle = Math.floor(event.length / 2);
      return [event.slice(0, middle), event.slice(middle)];
    });
    const readers = [instrument(halves).getReader(), instrument(halves).getReader()];
    const texts = ['', ''];
    const decoder = new TextDecoder();
    for (let done = false; !done; ) {
      done = true;
      for (const [which, reader] of readers.entries()) {
        const result = await reader.read();
        if (result.done) continue;
        done = false;
        texts[which] += decoder.decode(result.value);
      }
    }
    expect(texts).toEqual([events.join(''), events.join('')]);
    const spans = telemetry.streamSpans();
    expect(spans).toHaveLength(2);
    for (const span of spans) expectCompleteTextStream(span);
  });
});

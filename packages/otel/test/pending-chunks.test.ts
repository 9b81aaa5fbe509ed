import { describe, expect, it } from 'vitest';
import { instrumentStream } from '../src/index.js';
import { createTestTelemetry, manualClock, steppingClock, streamOf } from './helpers.js';

// Telemetry is recorded for a few chunks at a time, after the consumer has them. It must still
// be timely for a slow stream and complete however the stream stops.

const encoder = new TextEncoder();

function deltaChunks(count: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let sequence = 0; sequence < count; sequence += 1) {
    const data = JSON.stringify({
      type: 'response.output_text.delta',
      sequence_number: sequence,
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      delta: 'word ',
    });
    chunks.push(encoder.encode(`event: response.output_text.delta\ndata: ${data}\n\n`));
  }
  return chunks;
}

async function timePerChunkCount(telemetry: ReturnType<typeof createTestTelemetry>) {
  const points = (await telemetry.metrics()).get('gen_ai.client.operation.time_per_output_chunk');
  return (points?.[0]?.value as { count?: number } | undefined)?.count ?? 0;
}

/** `count` delta chunks, traced with a manual clock (or `now`); metrics readable. */
function tracedDeltas(count: number, now?: () => number) {
  const telemetry = createTestTelemetry();
  const clock = manualClock();
  const traced = instrumentStream(streamOf(deltaChunks(count)), {
    tracerProvider: telemetry.tracerProvider,
    meterProvider: telemetry.meterProvider,
    request: { url: 'https://openrouter.ai/api/v1/responses', method: 'POST' },
    _internal: { now: now ?? clock.now },
  });
  return { telemetry, clock, reader: traced.getReader() };
}

describe('telemetry of chunks already handed on', () => {
  it('is recorded as chunks come when they come slowly', async () => {
    const { telemetry, clock, reader } = tracedDeltas(5);
    for (let read = 0; read < 4; read += 1) {
      clock.advance(250);
      expect((await reader.read()).done).toBe(false);
    }
    // Four events, a quarter second apart: three gaps recorded before the stream ends.
    expect(await timePerChunkCount(telemetry)).toBe(3);
    await reader.cancel();
    await telemetry.shutdown();
  });

  it('records a full batch when the consumer asks for more, not before it has the last chunk', async () => {
    const { telemetry, clock, reader } = tracedDeltas(100);
    for (let read = 0; read < 64; read += 1) {
      clock.advance(1);
      expect((await reader.read()).done).toBe(false);
    }
    // 64 chunks is a batch; the consumer has them all and nothing is recorded yet.
    expect(await timePerChunkCount(telemetry)).toBe(0);
    const next = reader.read();
    // Asking for the 65th records the 64 (63 gaps between them).
    expect(await timePerChunkCount(telemetry)).toBe(63);
    expect((await next).done).toBe(false);
    await reader.cancel();
    await telemetry.shutdown();
  });

  it('is complete when the consumer stops between two recordings', async () => {
    const { telemetry, clock, reader } = tracedDeltas(100);
    // Fast chunks: fewer than a recording's worth of them, then a cancel.
    for (let read = 0; read < 10; read += 1) {
      clock.advance(1);
      expect((await reader.read()).done).toBe(false);
    }
    expect(await timePerChunkCount(telemetry)).toBe(0);
    await reader.cancel();
    const [span] = telemetry.streamSpans();
    expect(span?.attributes).toMatchObject({
      'tapedeck.event.count': 10,
      'tapedeck.delta.count': 10,
      'tapedeck.sequence.last': 9,
      'tapedeck.end_reason': 'consumer_abort',
    });
    expect(await timePerChunkCount(telemetry)).toBe(9);
    await telemetry.shutdown();
  });

  it('is complete when more reads are issued at once than chunks are held for recording', async () => {
    const { telemetry, reader } = tracedDeltas(250, steppingClock({ stepMs: 1 }).now);
    // After the first read, reads go straight to the body. None of these waits for the one
    // before, so all are issued before the first chunk comes: the consumer never comes back
    // between chunks, and more arrive than the 128 held for recording.
    expect((await reader.read()).done).toBe(false);
    const reads = Array.from({ length: 200 }, () => reader.read());
    for (const result of await Promise.all(reads)) expect(result.done).toBe(false);
    await reader.cancel();
    const [span] = telemetry.streamSpans();
    expect(span?.attributes).toMatchObject({
      'tapedeck.event.count': 201,
      'tapedeck.delta.count': 201,
      'tapedeck.sequence.last': 200,
      'tapedeck.sequence.gaps': 0,
    });
    for (const key of [
      'tapedeck.gap.max_ms',
      'tapedeck.gap.mean_ms',
      'tapedeck.gap.p50_ms',
      'tapedeck.gap.p95_ms',
    ]) {
      expect(Number.isFinite(span?.attributes[key]), key).toBe(true);
    }
    await telemetry.shutdown();
  });
});

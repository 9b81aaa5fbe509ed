import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it, vi } from 'vitest';
import { instrumentStream } from '../src/index.js';
import { readAll, steppingClock, streamOf } from './helpers.js';

// Counts the bytes the telemetry hands @tapedeck/sse's parser: a chunk that is one whole event
// laid out like the one before must not reach it.
const fed = vi.hoisted(() => ({ bytes: 0 }));
vi.mock('@tapedeck/sse', async (importOriginal) => {
  const original = await importOriginal<typeof import('@tapedeck/sse')>();
  return {
    ...original,
    createParser: (options: Parameters<typeof original.createParser>[0]) => {
      const parser = original.createParser(options);
      const feed = parser.feed.bind(parser);
      parser.feed = (chunk: Uint8Array) => {
        fed.bytes += chunk.byteLength;
        feed(chunk);
      };
      return parser;
    },
  };
});

describe('a chunk that is one whole event like the last', () => {
  it('skips the SSE parser, and its data (long, not ASCII) is measured as the parser would', async () => {
    // Values of 256 bytes and more take the decoder's other paths.
    const values = ['first', 'é'.repeat(200), `${'a'.repeat(300)}😀`, 'b'.repeat(400), 'ok'];
    const chunks = values.map((value) => `event: delta\ndata: ${value}\n\n`);
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const traced = instrumentStream(streamOf(chunks), {
      tracerProvider: provider,
      family: 'sse',
      events: 'all',
      _internal: { now: steppingClock().now },
    });
    expect(await readAll(traced)).toBe(chunks.join(''));
    // Only the first event went through the parser: it taught the layout.
    expect(fed.bytes).toBe(new TextEncoder().encode(chunks[0]).byteLength);
    const [span] = exporter.getFinishedSpans();
    const events = (span?.events ?? []).filter((event) => event.name !== 'tapedeck.stream_end');
    expect(
      events.map((event) => [
        event.attributes?.['sse.event'],
        event.attributes?.['tapedeck.event.index'],
        event.attributes?.['tapedeck.data_length'],
      ]),
    ).toEqual(values.map((value, index) => ['delta', index, value.length]));
    await provider.shutdown();
  });
});

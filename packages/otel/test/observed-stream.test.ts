import { afterEach, describe, expect, it } from 'vitest';
import { instrumentStream } from '../src/index.js';
import { createTestTelemetry, fixtureEvents, streamOf } from './helpers.js';

// An instrumented stream's own readers read the body directly; every other way of reading it
// (pipes, tee, a reader of the platform's own class) goes through the stream (observeStream,
// whose own tests mix them all). Whichever way a consumer reads, it must get every chunk once,
// in order, and telemetry must see every event.

const events = fixtureEvents('openresponses-text');
// The fixture opens with a comment, which is not an event.
const eventCount = events.filter((event) => !event.startsWith(':')).length;
const decoder = new TextDecoder();
let telemetry: ReturnType<typeof createTestTelemetry>;

afterEach(async () => {
  await telemetry?.shutdown();
});

function traced(chunks: Array<Uint8Array | string> = events) {
  telemetry = createTestTelemetry();
  return instrumentStream(streamOf(chunks), {
    tracerProvider: telemetry.tracerProvider,
    request: { url: 'https://openrouter.ai/api/v1/responses', method: 'POST' },
  });
}

function streamSpan() {
  const spans = telemetry.streamSpans();
  expect(spans).toHaveLength(1);
  return spans[0] as NonNullable<(typeof spans)[0]>;
}

// `values()` is the platform's (Node and the spec have it); the DOM typings here do not.
const valuesOf = (stream: ReadableStream<Uint8Array>, options: { preventCancel?: boolean }) =>
  (
    stream as unknown as {
      values(options: { preventCancel?: boolean }): AsyncIterableIterator<Uint8Array>;
    }
  ).values(options);

const text = (chunks: Uint8Array[]) => chunks.map((chunk) => decoder.decode(chunk)).join('');

describe('reading an instrumented stream', () => {
  it('hands the body’s own chunk objects to a reader, and the platform’s lock and close', async () => {
    const chunks = events.map((event) => new TextEncoder().encode(event));
    const stream = traced(chunks);
    expect(stream).toBeInstanceOf(ReadableStream);
    const reader = stream.getReader();
    expect(reader).toBeInstanceOf(ReadableStreamDefaultReader);
    expect(stream.locked).toBe(true);
    for (const chunk of chunks) {
      const result = await reader.read();
      expect(result.value).toBe(chunk);
    }
    expect(await reader.read()).toEqual({ done: true, value: undefined });
    await expect(reader.closed).resolves.toBeUndefined();
    reader.releaseLock();
    expect(stream.locked).toBe(false);
    expect(streamSpan().attributes['tapedeck.event.count']).toBe(eventCount);
    expect(streamSpan().attributes['tapedeck.end_reason']).toBe('completed');
  });

  it('for await reads everything and unlocks the stream at the end', async () => {
    const stream = traced();
    const seen: Uint8Array[] = [];
    for await (const chunk of stream) seen.push(chunk);
    expect(text(seen)).toBe(events.join(''));
    expect(stream.locked).toBe(false);
    expect(streamSpan().attributes['tapedeck.end_reason']).toBe('completed');
  });

  it('values({preventCancel}) leaves the rest for the next reader, in order', async () => {
    const stream = traced();
    const seen: Uint8Array[] = [];
    for await (const chunk of valuesOf(stream, { preventCancel: true })) {
      seen.push(chunk);
      if (seen.length === 3) break;
    }
    expect(stream.locked).toBe(false);
    expect(telemetry.streamSpans()).toHaveLength(0);
    for await (const chunk of stream) seen.push(chunk);
    expect(text(seen)).toBe(events.join(''));
    expect(streamSpan().attributes['tapedeck.event.count']).toBe(eventCount);
  });

  it('break out of for await cancels: consumer_abort', async () => {
    const stream = traced();
    for await (const _ of stream) break;
    expect(stream.locked).toBe(false);
    expect(streamSpan().attributes['tapedeck.end_reason']).toBe('consumer_abort');
  });

  it('a read pending when its reader is released rejects, and its chunk goes to the next reader', async () => {
    const stream = traced();
    const first = stream.getReader();
    const a = await first.read();
    const pending = first.read();
    first.releaseLock();
    await expect(pending).rejects.toBeInstanceOf(TypeError);
    const second = stream.getReader();
    const seen = [a.value as Uint8Array];
    for (;;) {
      const { done, value } = await second.read();
      if (done) break;
      seen.push(value);
    }
    expect(text(seen)).toBe(events.join(''));
    expect(streamSpan().attributes['tapedeck.event.count']).toBe(eventCount);
  });

  it('a read through the stream still pending when its reader is released comes before a direct read', async () => {
    const stream = traced();
    const first = stream.getReader();
    const seen = [(await first.read()).value as Uint8Array];
    first.releaseLock();
    // Let the stream finish that first pull, so the next read through it pulls again.
    await new Promise((resolve) => setImmediate(resolve));
    const platform = new ReadableStreamDefaultReader<Uint8Array>(stream);
    const pending = platform.read();
    platform.releaseLock();
    // Read again at once, while the body still owes the released read its chunk.
    const reader = stream.getReader();
    const next = reader.read();
    await expect(pending).rejects.toBeInstanceOf(TypeError);
    seen.push((await next).value as Uint8Array);
    for (let result = await reader.read(); !result.done; result = await reader.read()) {
      seen.push(result.value);
    }
    expect(text(seen)).toBe(events.join(''));
    expect(streamSpan().attributes['tapedeck.event.count']).toBe(eventCount);
  });

  it('pipeThrough after direct reads gets the rest, in order, still observed', async () => {
    const stream = traced();
    const reader = stream.getReader();
    const head = [(await reader.read()).value as Uint8Array, (await reader.read()).value!];
    reader.releaseLock();
    let rest = '';
    for await (const part of stream.pipeThrough(
      new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>,
    ))
      rest += part;
    expect(text(head) + rest).toBe(events.join(''));
    expect(streamSpan().attributes['tapedeck.event.count']).toBe(eventCount);
    expect(streamSpan().attributes['tapedeck.end_reason']).toBe('completed');
  });

  it('a Response around it: text(), clone() and bodyUsed behave as the platform’s', async () => {
    telemetry = createTestTelemetry();
    const response = instrumentStream(
      new Response(streamOf(events), { headers: { 'content-type': 'text/event-stream' } }),
      {
        tracerProvider: telemetry.tracerProvider,
        request: { url: 'https://openrouter.ai/api/v1/responses', method: 'POST' },
      },
    );
    const copy = response.clone();
    expect(await response.text()).toBe(events.join(''));
    expect(await copy.text()).toBe(events.join(''));
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
    expect(streamSpan().attributes['tapedeck.event.count']).toBe(eventCount);
  });

  it('an upstream error reaches a direct reader and errors the stream', async () => {
    telemetry = createTestTelemetry();
    const failure = new Error('socket hang up');
    let sent = false;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) controller.error(failure);
        else controller.enqueue(new TextEncoder().encode(events[0]));
        sent = true;
      },
    });
    const stream = instrumentStream(source, { tracerProvider: telemetry.tracerProvider });
    const reader = stream.getReader();
    expect((await reader.read()).done).toBe(false);
    await expect(reader.read()).rejects.toBe(failure);
    await expect(reader.closed).rejects.toBe(failure);
    expect(streamSpan().attributes['error.type']).toBe('stream_aborted');
  });
});

import type { ServerResponse } from 'node:http';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instrumentFetch, instrumentStream } from '../src/index.js';
import type { InstrumentOptions } from '../src/types.js';
import {
  countEnds,
  createTestTelemetry,
  fixtureEvents,
  manualClock,
  manualTimers,
  readAll,
  startServer,
  steppingClock,
} from './helpers.js';

const body = JSON.stringify({ model: 'openai/gpt-4o-mini', input: 'hi', stream: true });
const events = fixtureEvents('openresponses-text');
const held = new Set<ServerResponse>();
// `: OPENROUTER PROCESSING`, `response.created`, `response.in_progress`.
const heldText = events.slice(0, 3).join('');

let server: Awaited<ReturnType<typeof startServer>>;
let telemetry: ReturnType<typeof createTestTelemetry>;
let counted: ReturnType<typeof countEnds>;
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  server = await startServer((request, response) => {
    const path = request.url ?? '';
    if (path.startsWith('/http-500')) {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end('{"error":{"message":"boom"}}');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    if (path.startsWith('/hold')) {
      // A comment and two events, then the stream stays open until the test ends it.
      response.write(heldText);
      held.add(response);
      return;
    }
    if (path.startsWith('/reset')) {
      response.write(events[0]);
      response.write(events[1], () => setImmediate(() => response.socket?.destroy()));
      return;
    }
    if (path.startsWith('/truncated')) {
      response.end(heldText);
      return;
    }
    for (const event of events) response.write(event);
    response.end();
  });
});
afterAll(async () => {
  for (const response of held) response.destroy();
  await server.close();
  context.disable();
});
afterEach(async () => {
  for (const response of held) response.end();
  held.clear();
  await telemetry.shutdown();
});

function setup(extra: InstrumentOptions = {}) {
  telemetry = createTestTelemetry();
  counted = countEnds(telemetry.tracerProvider);
  const options: InstrumentOptions = {
    tracerProvider: counted.provider,
    meterProvider: telemetry.meterProvider,
    _internal: { now: steppingClock().now },
    ...extra,
  };
  return instrumentFetch(fetch, options);
}

function post(tracedFetch: typeof fetch, path: string, init: RequestInit = {}) {
  return tracedFetch(`${server.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    ...init,
  });
}

/** The one stream span, asserted to have been ended exactly once. */
function endedOnce(): ReadableSpan {
  const spans = telemetry.streamSpans();
  expect(spans).toHaveLength(1);
  const span = spans[0]!;
  expect(counted.ends.get(span.spanContext().spanId)).toBe(1);
  return span;
}

describe('every exit path ends the span exactly once', () => {
  it('end of stream: completed, status unset', async () => {
    const tracedFetch = setup();
    const response = await post(tracedFetch, '/complete');
    await readAll(response.body!);
    const span = endedOnce();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['tapedeck.end_reason']).toBe('completed');
  });

  it('break out of a real client loop (openai SDK): consumer_abort, status unset', async () => {
    const tracedFetch = setup();
    const client = new OpenAI({
      apiKey: 'test-key',
      baseURL: `${server.origin}/hold/v1`,
      fetch: tracedFetch,
      maxRetries: 0,
    });
    const stream = await client.responses.create({
      model: 'openai/gpt-4o-mini',
      input: 'hi',
      stream: true,
    });
    const seen: string[] = [];
    for await (const event of stream) {
      seen.push(event.type);
      if (event.type === 'response.in_progress') break;
    }
    expect(seen).toEqual(['response.created', 'response.in_progress']);
    await vitestWaitFor(() => telemetry.streamSpans().length === 1);
    const span = endedOnce();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['tapedeck.end_reason']).toBe('consumer_abort');
    expect(span.attributes['tapedeck.event.count']).toBe(2);
    expect(span.name).toBe('chat openai/gpt-4o-mini');
  });

  it('cancel() on the body: consumer_abort', async () => {
    const tracedFetch = setup();
    const response = await post(tracedFetch, '/hold');
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel('not needed');
    const span = endedOnce();
    expect(span.attributes['tapedeck.end_reason']).toBe('consumer_abort');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('abort signal mid-stream: ends at once, consumer_abort, the consumer sees the abort', async () => {
    const tracedFetch = setup();
    const controller = new AbortController();
    const response = await post(tracedFetch, '/hold', { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    // Ended by the signal itself, before anyone reads again.
    const span = endedOnce();
    expect(span.attributes['tapedeck.end_reason']).toBe('consumer_abort');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    await expect(reader.read()).rejects.toThrow();
    expect(counted.ends.get(span.spanContext().spanId)).toBe(1);
  });

  it('abort before the response: consumer_abort, the rejection reaches the caller', async () => {
    const tracedFetch = setup();
    const controller = new AbortController();
    controller.abort();
    await expect(post(tracedFetch, '/hold', { signal: controller.signal })).rejects.toThrow();
    const span = endedOnce();
    expect(span.attributes['tapedeck.end_reason']).toBe('consumer_abort');
  });

  it('upstream reset: ERROR stream_aborted, exception recorded, the consumer gets the error', async () => {
    const tracedFetch = setup();
    const response = await post(tracedFetch, '/reset');
    await expect(readAll(response.body!)).rejects.toThrow();
    const span = endedOnce();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({
      'error.type': 'stream_aborted',
      'tapedeck.end_reason': 'network_error',
    });
    expect(span.events.some((event) => event.name === 'exception')).toBe(true);
  });

  it('clean close before the terminal event: ERROR stream_aborted', async () => {
    const tracedFetch = setup();
    const response = await post(tracedFetch, '/truncated');
    await readAll(response.body!);
    const span = endedOnce();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({
      'error.type': 'stream_aborted',
      'tapedeck.end_reason': 'network_error',
      'tapedeck.event.count': 2,
    });
  });

  it('HTTP 500: ERROR with the status as error.type; the body is still the caller’s', async () => {
    const tracedFetch = setup();
    const response = await post(tracedFetch, '/http-500');
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('{"error":{"message":"boom"}}');
    const span = endedOnce();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({
      'error.type': '500',
      'http.response.status_code': 500,
      'tapedeck.end_reason': 'upstream_error',
    });
    const exception = span.events.find((event) => event.name === 'exception');
    expect(exception?.attributes?.['exception.message']).toContain('HTTP 500');
  });

  it('rejection (connection refused): ERROR, exception recorded, rethrown', async () => {
    const closed = await startServer(() => {});
    const origin = closed.origin;
    await closed.close();
    const tracedFetch = setup();
    await expect(tracedFetch(`${origin}/v1/responses`, { method: 'POST', body })).rejects.toThrow();
    const span = endedOnce();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({
      'error.type': 'ECONNREFUSED',
      'tapedeck.end_reason': 'network_error',
    });
    expect(span.events.some((event) => event.name === 'exception')).toBe(true);
  });

  it('never read: the idle timeout ends the span, the stream still works afterwards', async () => {
    const timers = manualTimers();
    const clock = manualClock();
    const tracedFetch = setup({
      idleTimeoutMs: 1_000,
      _internal: { now: clock.now, setTimer: timers.setTimer },
    });
    const response = await post(tracedFetch, '/complete');
    expect(timers.pending).toBe(1);
    // Fired early (a timer may run late, never early, but the check must not trust it).
    clock.advance(400);
    timers.fireAll();
    expect(telemetry.streamSpans()).toHaveLength(0);
    expect(timers.pending).toBe(1);
    clock.advance(600);
    timers.fireAll();
    const span = endedOnce();
    expect(span.attributes['tapedeck.end_reason']).toBe('idle_timeout');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    // Telemetry gave up; the consumer did not lose a byte.
    expect(await readAll(response.body!)).toBe(events.join(''));
    expect(counted.ends.get(span.spanContext().spanId)).toBe(1);
  });

  it('a consumer waiting on a read is not idle, however long the upstream takes', async () => {
    const timers = manualTimers();
    const clock = manualClock();
    const tracedFetch = setup({
      idleTimeoutMs: 1_000,
      _internal: { now: clock.now, setTimer: timers.setTimer },
    });
    const response = await post(tracedFetch, '/hold');
    const reader = response.body!.getReader();
    await readText(reader, heldText.length);
    // Everything sent so far is read; the next read waits on the upstream.
    const pendingRead = reader.read();
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(60_000);
    timers.fireAll();
    expect(telemetry.streamSpans()).toHaveLength(0);
    expect(timers.pending).toBe(1);
    for (const held of heldResponses()) held.end();
    await pendingRead;
    const span = endedOnce();
    expect(span.attributes['tapedeck.end_reason']).toBe('network_error');
  });
});

describe('context', () => {
  it('the stream span is active while the wrapped fetch runs', async () => {
    telemetry = createTestTelemetry();
    counted = countEnds(telemetry.tracerProvider);
    let activeSpanId: string | undefined;
    const inner: typeof fetch = (input, init) => {
      activeSpanId = trace.getActiveSpan()?.spanContext().spanId;
      return fetch(input, init);
    };
    const tracedFetch = instrumentFetch(inner, { tracerProvider: telemetry.tracerProvider });
    const response = await post(tracedFetch, '/complete');
    await readAll(response.body!);
    const [span] = telemetry.streamSpans();
    expect(activeSpanId).toBe(span?.spanContext().spanId);
  });

  it('non-streaming requests pass through without a span', async () => {
    telemetry = createTestTelemetry();
    counted = countEnds(telemetry.tracerProvider);
    const tracedFetch = instrumentFetch(fetch, { tracerProvider: telemetry.tracerProvider });
    const response = await tracedFetch(`${server.origin}/http-500`, {
      method: 'POST',
      body: JSON.stringify({ model: 'x' }),
    });
    expect(response.status).toBe(500);
    await response.text();
    expect(telemetry.spans()).toHaveLength(0);
  });
});

describe('instrumentStream', () => {
  it('traces a bare ReadableStream and hands every chunk on unchanged', async () => {
    telemetry = createTestTelemetry();
    counted = countEnds(telemetry.tracerProvider);
    const encoder = new TextEncoder();
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const event of events) controller.enqueue(encoder.encode(event));
        controller.close();
      },
    });
    const traced = instrumentStream(source, {
      tracerProvider: counted.provider,
      request: { url: 'https://openrouter.ai/api/v1/responses', method: 'POST', body },
      _internal: { now: steppingClock().now },
    });
    expect(await readAll(traced)).toBe(events.join(''));
    const span = endedOnce();
    expect(span.name).toBe('chat openai/gpt-4o-mini');
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'openrouter',
      'server.address': 'openrouter.ai',
      'server.port': 443,
      'tapedeck.end_reason': 'completed',
      'tapedeck.event.count': 16,
    });
  });

  it('traces a Response, keeping its status, headers and url', async () => {
    telemetry = createTestTelemetry();
    counted = countEnds(telemetry.tracerProvider);
    const upstream = await fetch(`${server.origin}/complete`, { method: 'POST', body });
    const traced = instrumentStream(upstream, {
      tracerProvider: counted.provider,
      request: { body },
    });
    expect(traced.status).toBe(200);
    expect(traced.url).toBe(`${server.origin}/complete`);
    expect(traced.headers.get('content-type')).toBe('text/event-stream');
    await readAll(traced.body!);
    const span = endedOnce();
    expect(span.attributes['server.address']).toBe('127.0.0.1');
    expect(span.attributes['tapedeck.end_reason']).toBe('completed');
  });
});

async function readText(reader: ReadableStreamDefaultReader<Uint8Array>, length: number) {
  const decoder = new TextDecoder();
  let text = '';
  while (text.length < length) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

function heldResponses() {
  return [...held];
}

async function vitestWaitFor(condition: () => boolean) {
  for (let attempt = 0; attempt < 100 && !condition(); attempt += 1) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('cancel while a read is pending', () => {
  it('ends the span once and the pending read settles as done', async () => {
    const tracedFetch = setup();
    const response = await post(tracedFetch, '/hold');
    const reader = response.body!.getReader();
    await readText(reader, heldText.length);
    const pendingRead = reader.read();
    await reader.cancel('user gave up');
    await expect(pendingRead).resolves.toEqual({ done: true, value: undefined });
    const span = endedOnce();
    expect(span.attributes['tapedeck.end_reason']).toBe('consumer_abort');
  });
});

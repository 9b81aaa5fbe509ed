import { DiagLogLevel, diag, type Span, type TracerProvider } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instrumentFetch } from '../src/index.js';
import { createTestTelemetry, fixture, readAll, serveFixture, startServer } from './helpers.js';

let server: Awaited<ReturnType<typeof startServer>>;
let telemetry: ReturnType<typeof createTestTelemetry>;
const logged: string[] = [];

beforeAll(async () => {
  server = await startServer((_request, response) => serveFixture(response, 'openresponses-text'));
  const record = (message: string) => logged.push(message);
  diag.setLogger(
    { error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} },
    DiagLogLevel.WARN,
  );
});
afterAll(async () => {
  diag.disable();
  await server.close();
});
afterEach(async () => {
  logged.length = 0;
  await telemetry.shutdown();
});

/** A provider whose spans throw from addEvent and setAttributes, like a broken exporter SDK. */
function throwingProvider(inner: TracerProvider): TracerProvider {
  return {
    getTracer(name, version, options) {
      const tracer = inner.getTracer(name, version, options);
      return {
        startSpan(spanName, spanOptions, parent) {
          const span: Span = tracer.startSpan(spanName, spanOptions, parent);
          span.addEvent = () => {
            throw new Error('addEvent exploded');
          };
          span.setAttributes = () => {
            throw new Error('setAttributes exploded');
          };
          return span;
        },
        startActiveSpan: tracer.startActiveSpan.bind(tracer),
      } as ReturnType<TracerProvider['getTracer']>;
    },
  };
}

describe('telemetry never breaks the stream', () => {
  it('a throwing span or onStreamEnd: every byte still arrives, the error goes to diag', async () => {
    telemetry = createTestTelemetry();
    const tracedFetch = instrumentFetch(fetch, {
      tracerProvider: throwingProvider(telemetry.tracerProvider),
      onStreamEnd: () => {
        throw new Error('onStreamEnd exploded');
      },
    });
    const response = await tracedFetch(`${server.origin}/v1/responses`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', stream: true }),
    });
    expect(await readAll(response.body!)).toBe(fixture('openresponses-text').toString('utf8'));
    expect(logged.some((message) => message.includes('[tapedeck] telemetry failed'))).toBe(true);
    expect(logged.some((message) => message.includes('[tapedeck] onStreamEnd threw'))).toBe(true);
    // The span still ended, once, with what could be recorded.
    const [span, ...others] = telemetry.streamSpans();
    expect(others).toHaveLength(0);
    expect(span?.name).toBe('chat m');
  });

  it('a response that turns out to be a stream is traced from when the request was sent', async () => {
    telemetry = createTestTelemetry();
    const tracedFetch = instrumentFetch(fetch, { tracerProvider: telemetry.tracerProvider });
    // A GET with no hint that it streams.
    const response = await tracedFetch(`${server.origin}/events`);
    await readAll(response.body!);
    const [span] = telemetry.streamSpans();
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'tapedeck.stream.family': 'openresponses',
      'tapedeck.end_reason': 'completed',
      'tapedeck.event.count': 16,
    });
  });
});

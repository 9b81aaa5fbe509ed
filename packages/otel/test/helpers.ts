import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** A sample stream from `__fixtures__/`, as bytes. */
export function fixture(name: string): Buffer {
  return readFileSync(new URL(`./__fixtures__/${name}.sse`, import.meta.url));
}

/** The SSE events of a fixture, as separate byte chunks (one write per event). */
export function fixtureEvents(name: string): string[] {
  return fixture(name)
    .toString('utf8')
    .split(/(?<=\n\n)/)
    .filter((part) => part.length > 0);
}

/** A real SDK tracer provider exporting to memory, plus a meter provider we can read. */
export function createTestTelemetry() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const metricReader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [metricReader] });
  return {
    tracerProvider,
    meterProvider,
    exporter,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    streamSpans: (): ReadableSpan[] =>
      exporter.getFinishedSpans().filter((span) => span.kind === 2 /* CLIENT */),
    async metrics() {
      await metricReader.forceFlush();
      const result = new Map<
        string,
        Array<{ attributes: Record<string, unknown>; value: unknown }>
      >();
      for (const resourceMetrics of metricExporter.getMetrics()) {
        for (const scope of resourceMetrics.scopeMetrics) {
          for (const metric of scope.metrics) {
            result.set(
              metric.descriptor.name,
              metric.dataPoints.map((point) => ({
                attributes: point.attributes as Record<string, unknown>,
                value: point.value,
              })),
            );
          }
        }
      }
      return result;
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

/** A real HTTP server on 127.0.0.1 (port 0). */
export async function startServer(handler: Handler) {
  const requests: Array<{ url: string; body: string; headers: IncomingMessage['headers'] }> = [];
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      requests.push({ url: request.url ?? '', body, headers: request.headers });
      handler(request, response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves a fixture as an SSE response, one event per write. */
export function serveFixture(response: ServerResponse, name: string): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const part of fixtureEvents(name)) response.write(part);
  response.end();
}

/** A clock that advances by `stepMs` every time it is read. */
export function steppingClock({ startMs = 1_763_700_000_000, stepMs = 5 } = {}) {
  let current = startMs;
  return {
    now: () => {
      const value = current;
      current += stepMs;
      return value;
    },
    peek: () => current,
  };
}

/** A manual timer for idle-timeout tests. */
export function manualTimers() {
  const timers = new Set<{ callback: () => void; delayMs: number }>();
  return {
    setTimer(callback: () => void, delayMs: number) {
      const timer = { callback, delayMs };
      timers.add(timer);
      return () => {
        timers.delete(timer);
      };
    },
    get pending() {
      return timers.size;
    },
    fireAll() {
      const due = [...timers];
      timers.clear();
      for (const timer of due) timer.callback();
    },
  };
}

/** A body that yields `chunks` one per read, on demand (strings are UTF-8 encoded). */
export function streamOf(chunks: Array<Uint8Array | string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let index = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[index++];
        if (chunk === undefined) controller.close();
        else controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Reads a stream to its end, returning its bytes as text. */
export async function readAll(body: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    text += decoder.decode(value, { stream: true });
  }
}

/** Attributes of a span as a plain object. */
export function attributesOf(span: ReadableSpan): Record<string, unknown> {
  return { ...span.attributes };
}

/**
 * Wraps a tracer provider so every span's `end()` calls are counted by span id: the SDK
 * ignores a second `end()`, so the exporter alone cannot prove "ended exactly once".
 */
export function countEnds(provider: TracerProvider) {
  const ends = new Map<string, number>();
  const counting: TracerProvider = {
    getTracer(name, version, options) {
      const tracer = provider.getTracer(name, version, options);
      return {
        startSpan(spanName, spanOptions, parent) {
          const span = tracer.startSpan(spanName, spanOptions, parent);
          const spanId = span.spanContext().spanId;
          const end = span.end.bind(span);
          span.end = (endTime) => {
            ends.set(spanId, (ends.get(spanId) ?? 0) + 1);
            end(endTime);
          };
          return span;
        },
        startActiveSpan: tracer.startActiveSpan.bind(tracer) as Tracer['startActiveSpan'],
      };
    },
  };
  return { provider: counting, ends };
}

/** A clock that moves only when told to. */
export function manualClock(startMs = 1_763_700_000_000) {
  let current = startMs;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
  };
}

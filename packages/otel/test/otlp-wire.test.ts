import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentFetch, type StreamEndInfo } from '../src/index.js';
import { setupTracing } from '../src/setup.js';
import { readAll, serveFixture, startServer } from './helpers.js';

// OTLP/JSON (the official protobuf schema's JSON mapping), as Jaeger's OTLP receiver reads it.
interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values: OtlpAnyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes: OtlpKeyValue[];
  events: Array<{ name: string; timeUnixNano: string | number; attributes: OtlpKeyValue[] }>;
  status: { code?: number; message?: string };
}
interface OtlpTraceRequest {
  resourceSpans: Array<{
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: Array<{ scope: { name: string }; spans: OtlpSpan[] }>;
  }>;
}

function decodeValue(value: OtlpAnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return value.arrayValue.values.map(decodeValue);
  return undefined;
}

function decodeAttributes(attributes: OtlpKeyValue[] = []): Record<string, unknown> {
  return Object.fromEntries(attributes.map(({ key, value }) => [key, decodeValue(value)]));
}

let upstream: Awaited<ReturnType<typeof startServer>>;
let collector: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  upstream = await startServer((_request, response) =>
    serveFixture(response, 'openresponses-text'),
  );
  // Plays Jaeger's OTLP/HTTP receiver: accepts POST /v1/traces and keeps the bodies.
  collector = await startServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{}');
  });
});
afterAll(async () => {
  await upstream.close();
  await collector.close();
});

function receivedSpans(): Array<{
  span: OtlpSpan;
  resource: Record<string, unknown>;
  scope: string;
}> {
  const result = [];
  for (const request of collector.requests) {
    expect(request.url).toBe('/v1/traces');
    expect(request.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request.body) as OtlpTraceRequest;
    for (const resourceSpans of body.resourceSpans) {
      for (const scopeSpans of resourceSpans.scopeSpans) {
        for (const span of scopeSpans.spans) {
          result.push({
            span,
            resource: decodeAttributes(resourceSpans.resource.attributes),
            scope: scopeSpans.scope.name,
          });
        }
      }
    }
  }
  return result;
}

async function streamOnce(tracedFetch: typeof fetch) {
  const response = await tracedFetch(`${upstream.origin}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', input: 'hi', stream: true }),
  });
  await readAll(response.body!);
}

describe('over the wire (OTLP/HTTP JSON)', () => {
  it('the real exporter posts the stream span with its attributes, events and item span', async () => {
    collector.requests.length = 0;
    const provider = new BasicTracerProvider({
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `${collector.origin}/v1/traces` })),
      ],
    });
    const ended: StreamEndInfo[] = [];
    const tracedFetch = instrumentFetch(fetch, {
      tracerProvider: provider,
      onStreamEnd: (info) => ended.push(info),
    });
    await streamOnce(tracedFetch);
    await provider.forceFlush();
    await provider.shutdown();

    const spans = receivedSpans();
    const stream = spans.find(({ span }) => span.kind === 3 /* SPAN_KIND_CLIENT */);
    expect(stream?.scope).toBe('@tapedeck/otel');
    const span = stream!.span;
    expect(span.name).toBe('chat openai/gpt-4o-mini');
    expect(span.status.code ?? 0).toBe(0);
    expect(decodeAttributes(span.attributes)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'openai/gpt-4o-mini',
      'gen_ai.request.stream': true,
      'gen_ai.response.id': 'resp_01JD8Z3K4Q',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 7,
      'tapedeck.delta.count': 7,
      'tapedeck.end_reason': 'completed',
    });
    const events = span.events.map((event) => event.name);
    expect(events).toContain('response.created');
    expect(events).toContain('response.completed');
    const batch = span.events.find((event) => event.name === 'tapedeck.delta_batch');
    expect(decodeAttributes(batch?.attributes)).toMatchObject({
      'tapedeck.batch.count': 7,
      'tapedeck.batch.delta_type': 'response.output_text.delta',
    });
    const item = spans.find(({ span: candidate }) => candidate.name === 'output_item message');
    expect(item?.span.parentSpanId).toBe(span.spanId);
    expect(item?.span.traceId).toBe(span.traceId);

    // The link a user clicks: the same ids Jaeger received.
    expect(ended).toHaveLength(1);
    expect(ended[0]?.traceId).toBe(span.traceId);
    expect(ended[0]?.jaegerUrl).toBe(
      `http://localhost:16686/trace/${span.traceId}?uiFind=${span.spanId}`,
    );
  });

  it('setupTracing registers a NodeSDK that exports to {endpoint}/v1/traces', async () => {
    collector.requests.length = 0;
    const tracing = setupTracing({ endpoint: collector.origin, serviceName: 'tapedeck-wire-test' });
    expect(tracing.tracesUrl).toBe(`${collector.origin}/v1/traces`);
    // No tracerProvider option: the global one setupTracing registered.
    await streamOnce(instrumentFetch(fetch));
    await tracing.shutdown();
    const spans = receivedSpans();
    const stream = spans.find(({ span }) => span.kind === 3);
    expect(stream?.resource['service.name']).toBe('tapedeck-wire-test');
    expect(decodeAttributes(stream?.span.attributes)).toMatchObject({
      'tapedeck.end_reason': 'completed',
      'gen_ai.response.model': 'openai/gpt-4o-mini',
    });
  });
});

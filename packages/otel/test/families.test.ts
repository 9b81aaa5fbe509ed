import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instrumentFetch } from '../src/index.js';
import {
  createTestTelemetry,
  fixture,
  readAll,
  serveFixture,
  startServer,
  steppingClock,
} from './helpers.js';

let server: Awaited<ReturnType<typeof startServer>>;
let telemetry: ReturnType<typeof createTestTelemetry>;

beforeAll(async () => {
  // The path names the fixture: /fixtures/<name>/... so one server serves every family.
  server = await startServer((request, response) => {
    const name = /^\/fixtures\/([a-z-]+)\//.exec(request.url ?? '')?.[1] ?? 'missing';
    serveFixture(response, name);
  });
});
afterAll(() => server.close());
afterEach(async () => {
  await telemetry?.shutdown();
});

const openResponsesBody = JSON.stringify({
  model: 'openai/gpt-4o-mini',
  input: 'What is the capital of France?',
  stream: true,
});
const chatBody = JSON.stringify({
  model: 'openai/gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say hello' }],
  stream: true,
});
const opperBody = JSON.stringify({
  name: 'capital',
  instructions: 'Answer',
  input: 'France',
  model: 'openai/gpt-4o-mini',
});

/** Streams a fixture through an instrumented fetch and returns the finished spans. */
async function traceFixture(
  name: string,
  path: string,
  body: string,
  options: Parameters<typeof instrumentFetch>[1] = {},
) {
  telemetry = createTestTelemetry();
  const tracedFetch = instrumentFetch(fetch, {
    tracerProvider: telemetry.tracerProvider,
    meterProvider: telemetry.meterProvider,
    _internal: { now: steppingClock().now },
    ...options,
  });
  const response = await tracedFetch(`${server.origin}/fixtures/${name}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body,
  });
  const text = await readAll(response.body!);
  // The consumer receives every byte, unchanged.
  expect(text).toBe(fixture(name).toString('utf8'));
  const [stream, ...others] = telemetry.streamSpans();
  expect(others).toHaveLength(0);
  const children = telemetry.spans().filter((span) => span.kind === SpanKind.INTERNAL);
  return { stream: stream!, children };
}

function eventNames(span: ReadableSpan): string[] {
  return span.events.map((event) => event.name);
}

function eventsNamed(span: ReadableSpan, name: string) {
  return span.events.filter((event) => event.name === name);
}

function timeMs(time: [number, number]): number {
  return time[0] * 1000 + time[1] / 1e6;
}

function expectOrderedWithinSpan(span: ReadableSpan) {
  const start = timeMs(span.startTime);
  const end = timeMs(span.endTime);
  let previous = start;
  for (const event of span.events) {
    const at = timeMs(event.time);
    expect(at).toBeGreaterThanOrEqual(previous);
    previous = at;
  }
  expect(end).toBeGreaterThanOrEqual(previous);
}

describe('OpenResponses streams', () => {
  it('text: names, GenAI attributes, tapedeck attributes, events and an item span', async () => {
    const { stream, children } = await traceFixture(
      'openresponses-text',
      '/v1/responses',
      openResponsesBody,
    );
    expect(stream.name).toBe('chat openai/gpt-4o-mini');
    expect(stream.kind).toBe(SpanKind.CLIENT);
    expect(stream.status.code).toBe(SpanStatusCode.UNSET);
    expect(stream.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'openai/gpt-4o-mini',
      'gen_ai.request.stream': true,
      'server.address': '127.0.0.1',
      'server.port': server.port,
      'http.response.status_code': 200,
      'gen_ai.response.id': 'resp_01JD8Z3K4Q',
      'gen_ai.response.model': 'openai/gpt-4o-mini',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 7,
      'tapedeck.stream.family': 'openresponses',
      'tapedeck.event.count': 16,
      'tapedeck.delta.count': 7,
      'tapedeck.delta.characters': 'Paris is the capital of France.'.length,
      'tapedeck.sequence.last': 14,
      'tapedeck.sequence.gaps': 0,
      'tapedeck.terminal_event.type': 'response.completed',
      'tapedeck.end_reason': 'completed',
      'tapedeck.span_events.dropped': 0,
    });
    expect(stream.attributes['gen_ai.output.messages']).toBeUndefined();
    expect(stream.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(stream.attributes['tapedeck.time_to_first_delta_ms']).toBeGreaterThan(0);
    for (const key of ['max_ms', 'mean_ms', 'p50_ms', 'p95_ms']) {
      expect(stream.attributes[`tapedeck.gap.${key}`]).toBeGreaterThanOrEqual(0);
    }
    expect(eventNames(stream)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'tapedeck.delta_batch',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
      '[DONE]',
      'tapedeck.stream_end',
    ]);
    const [batch] = eventsNamed(stream, 'tapedeck.delta_batch');
    expect(batch?.attributes).toMatchObject({
      'tapedeck.batch.count': 7,
      'tapedeck.batch.delta_type': 'response.output_text.delta',
      'tapedeck.batch.first_sequence_number': 4,
      'tapedeck.batch.last_sequence_number': 10,
      'tapedeck.batch.characters': 31,
      'tapedeck.output_index': 0,
      'tapedeck.content_index': 0,
      'tapedeck.item_id': 'msg_01JD8Z3K5R',
    });
    expect(batch?.attributes?.['tapedeck.batch.text']).toBeUndefined();
    const [added] = eventsNamed(stream, 'response.output_item.added');
    expect(added?.attributes).toMatchObject({
      'tapedeck.event.index': 2,
      'sse.event': 'response.output_item.added',
      'tapedeck.sequence_number': 2,
      'tapedeck.output_index': 0,
      'tapedeck.item_id': 'msg_01JD8Z3K5R',
      'tapedeck.item_type': 'message',
    });
    expect(added?.attributes?.['tapedeck.data_length']).toBeGreaterThan(50);
    expect(added?.attributes?.['tapedeck.elapsed_ms']).toBeGreaterThan(0);
    expect(typeof added?.attributes?.['tapedeck.gap_ms']).toBe('number');
    expect(eventsNamed(stream, 'tapedeck.stream_end')[0]?.attributes).toMatchObject({
      'tapedeck.end_reason': 'completed',
    });
    expectOrderedWithinSpan(stream);

    expect(children).toHaveLength(1);
    const [item] = children;
    expect(item?.name).toBe('output_item message');
    expect(item?.parentSpanContext?.spanId).toBe(stream.spanContext().spanId);
    expect(item?.spanContext().traceId).toBe(stream.spanContext().traceId);
    expect(item?.attributes).toMatchObject({
      'tapedeck.output_index': 0,
      'tapedeck.item_id': 'msg_01JD8Z3K5R',
      'tapedeck.item_type': 'message',
    });
    // The item's bar sits inside the stream's bar, from `added` to `done`.
    expect(timeMs(item!.startTime)).toBe(timeMs(added!.time));
    expect(timeMs(item!.endTime)).toBe(
      timeMs(eventsNamed(stream, 'response.output_item.done')[0]!.time),
    );

    const metrics = await telemetry.metrics();
    const duration = metrics.get('gen_ai.client.operation.duration');
    expect(duration?.[0]?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'openai/gpt-4o-mini',
      'gen_ai.response.model': 'openai/gpt-4o-mini',
      'server.address': '127.0.0.1',
    });
    expect(metrics.get('gen_ai.client.operation.time_to_first_chunk')?.[0]?.value).toMatchObject({
      count: 1,
    });
    expect(metrics.get('gen_ai.client.operation.time_per_output_chunk')?.[0]?.value).toMatchObject({
      count: 15,
    });
    const usage = metrics.get('gen_ai.client.token.usage') ?? [];
    const byType = Object.fromEntries(
      usage.map((point) => [point.attributes['gen_ai.token.type'], point.value]),
    );
    expect(byType.input).toMatchObject({ count: 1, sum: 12 });
    expect(byType.output).toMatchObject({ count: 1, sum: 7 });
  });

  it('function call: an item span named after the tool, with its call id', async () => {
    const { stream, children } = await traceFixture(
      'openresponses-function-call',
      '/v1/responses',
      openResponsesBody,
    );
    expect(stream.attributes).toMatchObject({
      'tapedeck.delta.count': 4,
      'tapedeck.delta.characters': '{"city":"Paris","units":"celsius"}'.length,
      'tapedeck.end_reason': 'completed',
      'gen_ai.usage.input_tokens': 40,
      'gen_ai.usage.output_tokens': 18,
    });
    expect(eventsNamed(stream, 'tapedeck.delta_batch')[0]?.attributes).toMatchObject({
      'tapedeck.batch.count': 4,
      'tapedeck.batch.delta_type': 'response.function_call_arguments.delta',
      'tapedeck.item_id': 'fc_01JD8Z3K6S',
    });
    expect(children.map((span) => span.name)).toEqual(['output_item function_call get_weather']);
    expect(children[0]?.attributes).toMatchObject({
      'gen_ai.tool.call.id': 'call_7Qx',
      'gen_ai.tool.name': 'get_weather',
      'gen_ai.tool.type': 'function',
      'tapedeck.item_id': 'fc_01JD8Z3K6S',
      'tapedeck.output_index': 0,
    });
  });

  it('reasoning: one item span per output item, reasoning tokens, one batch per part', async () => {
    const { stream, children } = await traceFixture(
      'openresponses-reasoning',
      '/v1/responses',
      openResponsesBody,
    );
    expect(children.map((span) => span.name).sort()).toEqual([
      'output_item message',
      'output_item reasoning',
    ]);
    expect(stream.attributes).toMatchObject({
      'gen_ai.usage.reasoning.output_tokens': 22,
      'tapedeck.delta.count': 8,
      'tapedeck.sequence.last': 19,
    });
    expect(
      eventsNamed(stream, 'tapedeck.delta_batch').map((event) => [
        event.attributes?.['tapedeck.batch.delta_type'],
        event.attributes?.['tapedeck.batch.count'],
      ]),
    ).toEqual([
      ['response.reasoning_summary_text.delta', 5],
      ['response.output_text.delta', 3],
    ]);
  });

  it('incomplete: finish reason from incomplete_details, status unset', async () => {
    const { stream } = await traceFixture(
      'openresponses-incomplete',
      '/v1/responses',
      openResponsesBody,
    );
    expect(stream.status.code).toBe(SpanStatusCode.UNSET);
    expect(stream.attributes).toMatchObject({
      'gen_ai.response.finish_reasons': ['max_output_tokens'],
      'tapedeck.end_reason': 'incomplete',
      'tapedeck.terminal_event.type': 'response.incomplete',
    });
  });

  it('error event: ERROR with the provider code', async () => {
    const { stream } = await traceFixture(
      'openresponses-error',
      '/v1/responses',
      openResponsesBody,
    );
    expect(stream.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'Rate limit exceeded. Please try again later.',
    });
    expect(stream.attributes).toMatchObject({
      'error.type': 'rate_limit_exceeded',
      'tapedeck.end_reason': 'upstream_error',
      'tapedeck.terminal_event.type': 'error',
    });
    expect(eventsNamed(stream, 'error')[0]?.attributes).toMatchObject({
      'tapedeck.error.code': 'rate_limit_exceeded',
      'tapedeck.sequence_number': 1,
    });
  });
});

describe('chat-completions streams', () => {
  it('counts content deltas, reads usage and finish reasons, ends at [DONE]', async () => {
    const { stream, children } = await traceFixture(
      'openrouter-chat',
      '/api/v1/chat/completions',
      chatBody,
      { providerName: 'openrouter' },
    );
    expect(children).toHaveLength(0);
    expect(stream.name).toBe('chat openai/gpt-4o-mini');
    expect(stream.attributes).toMatchObject({
      'gen_ai.provider.name': 'openrouter',
      'gen_ai.response.id': 'gen-1763700000-abc',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 5,
      'gen_ai.usage.output_tokens': 2,
      'tapedeck.stream.family': 'chat-completions',
      'tapedeck.event.count': 4,
      'tapedeck.delta.count': 2,
      'tapedeck.delta.characters': 5,
      'tapedeck.terminal_event.type': '[DONE]',
      'tapedeck.end_reason': 'completed',
    });
    expect(eventNames(stream)).toEqual([
      'tapedeck.delta_batch',
      'chat.completion.chunk',
      '[DONE]',
      'tapedeck.stream_end',
    ]);
  });
});

describe('Opper streams', () => {
  it('text: opper.span_id, one batch of chunks, completed on close', async () => {
    const { stream } = await traceFixture('opper-text', '/v2/call/stream', opperBody);
    expect(stream.status.code).toBe(SpanStatusCode.UNSET);
    expect(stream.attributes).toMatchObject({
      'gen_ai.provider.name': 'opper',
      'gen_ai.request.model': 'openai/gpt-4o-mini',
      'opper.span_id': '3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f',
      'tapedeck.stream.family': 'opper',
      'tapedeck.event.count': 8,
      'tapedeck.delta.count': 7,
      'tapedeck.delta.characters': 'The capital of France is Paris.'.length,
      'tapedeck.end_reason': 'completed',
    });
    expect(eventNames(stream)).toEqual([
      'opper.chunk',
      'tapedeck.delta_batch',
      'tapedeck.stream_end',
    ]);
    expect(eventsNamed(stream, 'tapedeck.delta_batch')[0]?.attributes).toMatchObject({
      'tapedeck.batch.count': 7,
      'tapedeck.batch.delta_type': 'opper.chunk',
    });
  });

  it('json: a batch per json_path', async () => {
    const { stream } = await traceFixture('opper-json', '/v2/call/stream', opperBody);
    expect(
      eventsNamed(stream, 'tapedeck.delta_batch').map((event) => [
        event.attributes?.['opper.json_path'],
        event.attributes?.['tapedeck.batch.count'],
      ]),
    ).toEqual([
      ['people[0].name', 2],
      ['people[0].age', 1],
      ['people[0].mathematician', 1],
    ]);
    expect(stream.attributes['tapedeck.delta.characters']).toBe(3 + 9 + 2 + 4);
  });

  it('error chunk: ERROR with the error type', async () => {
    const { stream } = await traceFixture('opper-error', '/v2/call/stream', opperBody);
    expect(stream.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'upstream model timed out',
    });
    expect(stream.attributes).toMatchObject({
      'error.type': 'ModelError',
      'tapedeck.end_reason': 'upstream_error',
    });
    const errorEvent = stream.events.find(
      (event) => event.attributes?.['opper.chunk_type'] === 'error',
    );
    expect(errorEvent?.attributes).toMatchObject({
      'tapedeck.error.code': 'ModelError',
      'tapedeck.error.message': 'upstream model timed out',
    });
  });
});

describe('content capture', () => {
  it('is off by default and on with captureContent: output messages and batch text', async () => {
    const { stream } = await traceFixture(
      'openresponses-text',
      '/v1/responses',
      openResponsesBody,
      {
        captureContent: true,
      },
    );
    expect(JSON.parse(String(stream.attributes['gen_ai.output.messages']))).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'text', content: 'Paris is the capital of France.' }],
        finish_reason: 'stop',
      },
    ]);
    expect(
      eventsNamed(stream, 'tapedeck.delta_batch')[0]?.attributes?.['tapedeck.batch.text'],
    ).toBe('Paris is the capital of France.');
  });

  it('follows OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT and caps the length', async () => {
    const previous = process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
    process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = 'true';
    try {
      const { stream } = await traceFixture('opper-json', '/v2/call/stream', opperBody);
      const messages = JSON.parse(String(stream.attributes['gen_ai.output.messages']));
      expect(JSON.parse(messages[0].parts[0].content)).toEqual({
        people: [{ name: 'Ada Lovelace', age: 36, mathematician: true }],
      });
      const capped = await traceFixture('opper-text', '/v2/call/stream', opperBody, {
        maxContentLength: 20,
      });
      expect(String(capped.stream.attributes['gen_ai.output.messages'])).toHaveLength(20);
    } finally {
      if (previous === undefined)
        delete process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
      else process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = previous;
    }
  });

  it('tool calls and reasoning become parts', async () => {
    const { stream } = await traceFixture(
      'openresponses-reasoning',
      '/v1/responses',
      openResponsesBody,
      { captureContent: true },
    );
    expect(JSON.parse(String(stream.attributes['gen_ai.output.messages']))[0].parts).toEqual([
      { type: 'reasoning', content: 'Compare the two numbers.' },
      { type: 'text', content: '9.11 < 9.9' },
    ]);
    const call = await traceFixture(
      'openresponses-function-call',
      '/v1/responses',
      openResponsesBody,
      { captureContent: true },
    );
    expect(JSON.parse(String(call.stream.attributes['gen_ai.output.messages']))[0].parts).toEqual([
      {
        type: 'tool_call',
        id: 'call_7Qx',
        name: 'get_weather',
        arguments: '{"city":"Paris","units":"celsius"}',
      },
    ]);
  });
});

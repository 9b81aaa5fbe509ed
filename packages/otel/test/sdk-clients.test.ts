import { OpenRouter } from '@openrouter/sdk';
import { HTTPClient as OpenRouterHttpClient } from '@openrouter/sdk/lib/http.js';
import { SpanStatusCode } from '@opentelemetry/api';
import { Opper } from 'opperai';
import { HTTPClient as OpperHttpClient } from 'opperai/lib/http.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instrumentFetch } from '../src/index.js';
import { countEnds, createTestTelemetry, serveFixture, startServer } from './helpers.js';

// The real clients, pointed at a 127.0.0.1 server replaying the samples, with the instrumented
// fetch as their transport. Speakeasy clients hand fetch a Request object, not (url, init).
let server: Awaited<ReturnType<typeof startServer>>;
let telemetry: ReturnType<typeof createTestTelemetry>;
let counted: ReturnType<typeof countEnds>;

beforeAll(async () => {
  server = await startServer((request, response) => {
    const url = request.url ?? '';
    if (url.endsWith('/call/stream')) serveFixture(response, 'opper-text');
    else if (url.endsWith('/chat/completions')) serveFixture(response, 'openrouter-chat');
    else serveFixture(response, 'openresponses-function-call');
  });
});
afterAll(() => server.close());
afterEach(() => telemetry.shutdown());

function tracedFetch() {
  telemetry = createTestTelemetry();
  counted = countEnds(telemetry.tracerProvider);
  return instrumentFetch(fetch, { tracerProvider: counted.provider });
}

function onlyStreamSpan() {
  const spans = telemetry.streamSpans();
  expect(spans).toHaveLength(1);
  expect(counted.ends.get(spans[0]!.spanContext().spanId)).toBe(1);
  return spans[0]!;
}

async function settle() {
  for (let attempt = 0; attempt < 50 && telemetry.streamSpans().length === 0; attempt += 1) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('with the real clients', () => {
  it('opperai: the Opper stream span, keyed by opper.span_id, model from the Request body', async () => {
    const opper = new Opper({
      httpBearer: 'test-key',
      serverURL: `${server.origin}/v2`,
      httpClient: new OpperHttpClient({ fetcher: tracedFetch() }),
      retryConfig: { strategy: 'none' },
    });
    const response = await opper.stream({
      name: 'capital',
      input: 'France',
      model: 'openai/gpt-4o-mini',
    });
    let text = '';
    for await (const event of response.result as AsyncIterable<{ data?: { delta?: unknown } }>) {
      if (typeof event.data?.delta === 'string') text += event.data.delta;
    }
    expect(text).toBe('The capital of France is Paris.');
    await settle();
    const span = onlyStreamSpan();
    expect(span.name).toBe('chat openai/gpt-4o-mini');
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'opper',
      'opper.span_id': '3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f',
      'tapedeck.delta.count': 7,
      'tapedeck.end_reason': 'completed',
    });
  });

  it('opperai, breaking out early: consumer_abort', async () => {
    const opper = new Opper({
      httpBearer: 'test-key',
      serverURL: `${server.origin}/v2`,
      httpClient: new OpperHttpClient({ fetcher: tracedFetch() }),
      retryConfig: { strategy: 'none' },
    });
    const response = await opper.stream({ name: 'capital', input: 'France' });
    for await (const _event of response.result as AsyncIterable<unknown>) break;
    await settle();
    const span = onlyStreamSpan();
    expect(span.attributes['tapedeck.end_reason']).toBe('consumer_abort');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('@openrouter/sdk responses: the SDK cancels at [DONE], which is still completed', async () => {
    const openRouter = new OpenRouter({
      apiKey: 'test-key',
      serverURL: `${server.origin}/api/v1`,
      httpClient: new OpenRouterHttpClient({ fetcher: tracedFetch() }),
      retryConfig: { strategy: 'none' },
    });
    const stream = await openRouter.responses.send({
      responsesRequest: { model: 'openai/gpt-4o-mini', input: 'Weather?', stream: true },
    });
    const types: string[] = [];
    for await (const event of stream as AsyncIterable<{ type: string }>) types.push(event.type);
    expect(types.at(-1)).toBe('response.completed');
    await settle();
    const span = onlyStreamSpan();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'tapedeck.end_reason': 'completed',
      'tapedeck.terminal_event.type': 'response.completed',
    });
    const item = telemetry.spans().find((candidate) => candidate.name.startsWith('output_item'));
    expect(item?.name).toBe('output_item function_call get_weather');
  });

  it('@openrouter/sdk chat: completed at [DONE] with usage', async () => {
    const openRouter = new OpenRouter({
      apiKey: 'test-key',
      serverURL: `${server.origin}/api/v1`,
      httpClient: new OpenRouterHttpClient({ fetcher: tracedFetch() }),
      retryConfig: { strategy: 'none' },
    });
    const stream = await openRouter.chat.send({
      chatRequest: {
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hello' }],
        stream: true,
      },
    });
    for await (const _chunk of stream as AsyncIterable<unknown>) {
      // drain
    }
    await settle();
    const span = onlyStreamSpan();
    expect(span.attributes).toMatchObject({
      'tapedeck.stream.family': 'chat-completions',
      'gen_ai.usage.input_tokens': 5,
      'gen_ai.usage.output_tokens': 2,
      'tapedeck.end_reason': 'completed',
    });
  });
});

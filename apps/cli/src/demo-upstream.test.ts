import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoUpstream, startDemoUpstream } from './demo-upstream.js';

/** Splits an SSE body into events (this upstream writes LF line ends only). */
function events(body: string) {
  return body
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const lines = block.split('\n');
      const type = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length);
      const data = lines
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice('data: '.length))
        .join('\n');
      const comment = lines.every((line) => line.startsWith(':'));
      return { type, data, comment };
    });
}

describe('the demo upstream', () => {
  let upstream: DemoUpstream;
  beforeAll(async () => {
    upstream = await startDemoUpstream({ pacing: { firstByteMs: 0, deltaMs: 0 } });
  });
  afterAll(() => upstream.close());

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${upstream.origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { response, events: events(await response.text()) };
  };

  it('streams Opper text with span_id in the first chunk and no [DONE]', async () => {
    const { response, events: received } = await post('/v2/call/stream', { name: 'demo' });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const chunks = received.map((event) => JSON.parse(event.data));
    expect(chunks[0].span_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(chunks.slice(1).every((chunk) => chunk.chunk_type === 'text')).toBe(true);
    expect(
      chunks
        .slice(1)
        .map((chunk) => chunk.delta)
        .join(''),
    ).toContain('Paris');
    expect(received.some((event) => event.data === '[DONE]')).toBe(false);
  });

  it('streams Opper JSON deltas with json_path when an output_schema is given', async () => {
    const { events: received } = await post('/v2/call/stream', {
      output_schema: { type: 'object' },
    });
    const chunks = received.slice(1).map((event) => JSON.parse(event.data));
    expect(chunks.every((chunk) => chunk.chunk_type === 'json')).toBe(true);
    expect(chunks.map((chunk) => chunk.json_path)).toContain('people[1].born');
  });

  it('streams an Opper error chunk for an error model', async () => {
    const { events: received } = await post('/v2/call/stream', { model: 'demo/error' });
    expect(JSON.parse(received.at(-1)?.data ?? '{}')).toMatchObject({ chunk_type: 'error' });
  });

  it('streams typed OpenResponses events with increasing sequence numbers and [DONE]', async () => {
    const { events: received } = await post('/v1/responses', { model: 'm', stream: true });
    expect(received[0]?.comment).toBe(true);
    const typed = received.filter((event) => !event.comment && event.data !== '[DONE]');
    const values = typed.map((event) => JSON.parse(event.data));
    expect(typed.every((event, index) => event.type === values[index].type)).toBe(true);
    expect(values.map((value) => value.sequence_number)).toEqual(values.map((_, index) => index));
    expect(values[0].type).toBe('response.created');
    expect(values.at(-1).type).toBe('response.completed');
    expect(received.at(-1)?.data).toBe('[DONE]');
    // The response object events describe one response: same id, the requested model.
    const responses = values.filter((value) => value.response).map((value) => value.response);
    expect(responses.map((response) => response.status)).toEqual([
      'in_progress',
      'in_progress',
      'completed',
    ]);
    expect(responses[0].id).toMatch(/^resp_[0-9a-f]{24}$/);
    expect(responses.every((response) => response.id === responses[0].id)).toBe(true);
    expect(responses.every((response) => response.model === 'm')).toBe(true);
  });

  it('streams a function call when tools are given, reasoning when asked, an error for an error model', async () => {
    const types = async (body: unknown) =>
      (await post('/responses', body)).events.map((event) => event.type).filter(Boolean);
    expect(await types({ tools: [{ type: 'function', name: 'get_weather' }] })).toContain(
      'response.function_call_arguments.done',
    );
    expect(await types({ reasoning: { effort: 'low' } })).toContain(
      'response.reasoning_summary_text.delta',
    );
    expect(await types({ model: 'demo/error' })).toEqual(['response.created', 'error']);
  });

  it('streams chat-completion chunks ending in [DONE]', async () => {
    const { events: received } = await post('/api/v1/chat/completions', { model: 'm' });
    const chunks = received
      .filter((event) => !event.comment && event.data !== '[DONE]')
      .map((event) => JSON.parse(event.data));
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
    expect(received.at(-1)?.data).toBe('[DONE]');
  });

  it('answers 404 on an unknown path', async () => {
    const { response } = await post('/nope', {});
    expect(response.status).toBe(404);
  });
});

import { describe, expect, it } from 'vitest';
import {
  detectFamily,
  extractStreamInfo,
  mayCarryStreamInfo,
  parseEventData,
} from './parse-event.js';

describe('parseEventData', () => {
  it('reports [DONE] as a sentinel for every family', () => {
    for (const family of ['opper', 'openresponses', 'chat-completions', 'sse'] as const) {
      const result = parseEventData(family, { data: '[DONE]' });
      expect(result).toMatchObject({ ok: false, problem: 'sentinel' });
    }
  });

  it('reports data that is not JSON, except for plain sse', () => {
    const result = parseEventData('opper', { data: 'hello' });
    expect(result).toMatchObject({ ok: false, problem: 'not-json' });
    expect(!result.ok && result.message).toMatch(/opper event data is not JSON/);
    expect(parseEventData('sse', { data: 'hello' })).toEqual({
      ok: true,
      known: false,
      value: 'hello',
    });
  });

  it('parses a known OpenResponses event and returns the very object JSON.parse made', () => {
    const data =
      '{"type":"response.output_text.delta","sequence_number":4,"item_id":"m","output_index":0,"content_index":0,"delta":"Hi","logprobs":[]}';
    const result = parseEventData('openresponses', { data });
    expect(result.ok && result.known).toBe(true);
    if (result.ok && result.known) {
      expect(result.value.type).toBe('response.output_text.delta');
      expect(JSON.stringify(result.value)).toBe(data);
    }
  });

  it('keeps an unknown type and a known type with an extra field untouched, as unknown', () => {
    for (const data of [
      '{"zeta":1,"type":"response.future_thing","alpha":{"b":2,"a":1}}',
      '{"extra":true,"type":"response.function_call_arguments.delta","sequence_number":1,"item_id":"f","output_index":0,"delta":"{"}',
    ]) {
      const result = parseEventData('openresponses', { data });
      expect(result).toMatchObject({ ok: true, known: false });
      expect(result.ok && JSON.stringify(result.value)).toBe(data);
    }
  });

  it('reports a known type with a missing field as schema-mismatch with the path', () => {
    const data =
      '{"type":"response.output_text.done","sequence_number":1,"item_id":"m","output_index":0,"content_index":0,"logprobs":[]}';
    const result = parseEventData('openresponses', { data });
    expect(result).toMatchObject({ ok: false, problem: 'schema-mismatch', path: ['text'] });
    expect(!result.ok && JSON.stringify(result.value)).toBe(data);
  });

  it('reports the nested path of a mistyped field', () => {
    const data = '{"type":"response.completed","sequence_number":1,"response":{"id":5}}';
    const result = parseEventData('openresponses', { data });
    expect(result).toMatchObject({ ok: false, problem: 'schema-mismatch' });
    expect(!result.ok && result.path?.[0]).toBe('response');
  });

  it('reads Opper chunks: known fields, unknown chunk_type, extra keys, wrong types', () => {
    expect(
      parseEventData('opper', { data: '{"delta":36,"json_path":"a.b","chunk_type":"json"}' }),
    ).toMatchObject({
      ok: true,
      known: true,
    });
    expect(parseEventData('opper', { data: '{"delta":null,"span_id":null}' })).toMatchObject({
      ok: true,
      known: true,
    });
    expect(
      parseEventData('opper', { data: '{"delta":"x","chunk_type":"reasoning"}' }),
    ).toMatchObject({
      ok: true,
      known: false,
    });
    expect(parseEventData('opper', { data: '{"delta":"x","new_field":1}' })).toMatchObject({
      ok: true,
      known: false,
    });
    expect(parseEventData('opper', { data: '{"delta":{"nested":1}}' })).toMatchObject({
      ok: false,
      problem: 'schema-mismatch',
      path: ['delta'],
    });
    expect(parseEventData('opper', { data: '42' })).toMatchObject({
      ok: false,
      problem: 'schema-mismatch',
    });
  });

  it('reads chat-completion chunks, keeping gateway fields, and bare errors', () => {
    const chunk =
      '{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","provider":"OpenAI","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}';
    const result = parseEventData('chat-completions', { data: chunk });
    expect(result).toMatchObject({ ok: true, known: true });
    expect(result.ok && JSON.stringify(result.value)).toBe(chunk);
    expect(
      parseEventData('chat-completions', { data: '{"error":{"message":"boom","code":502}}' }),
    ).toMatchObject({ ok: true, known: true });
    expect(
      parseEventData('chat-completions', {
        data: '{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"delta":{}}]}',
      }),
    ).toMatchObject({ ok: false, problem: 'schema-mismatch', path: ['choices', 0, 'index'] });
  });
});

describe('detectFamily', () => {
  it('tells each URL its own family when many are seen and some again (the path cache)', () => {
    const urls = Array.from({ length: 300 }, (_, index) =>
      index % 2
        ? [`https://api.opper.ai/v2/call/stream?n=${index}`, 'opper']
        : [`https://openrouter.ai/api/v1/responses?n=${index}`, 'openresponses'],
    );
    for (const [url, family] of [...urls, ...urls.reverse()]) {
      expect(detectFamily({ url: url as string })).toBe(family);
    }
  });

  it('detects by URL path', () => {
    expect(detectFamily({ url: 'https://api.opper.ai/v2/call/stream' })).toBe('opper');
    expect(detectFamily({ url: 'https://api.opper.ai/v2/functions/f1/call/stream/r2' })).toBe(
      'opper',
    );
    expect(detectFamily({ url: 'https://openrouter.ai/api/v1/responses' })).toBe('openresponses');
    expect(detectFamily({ url: 'https://openrouter.ai/api/v1/chat/completions?x=1' })).toBe(
      'chat-completions',
    );
    expect(detectFamily({ url: 'https://example.test/events' })).toBe('sse');
  });

  it('lets the events decide over the URL', () => {
    const url = 'http://127.0.0.1:9/proxy';
    expect(detectFamily({ url }, [{ data: '{"span_id":"abc"}' }])).toBe('opper');
    expect(detectFamily({ url }, [{ data: '{"type":"response.created"}' }])).toBe('openresponses');
    expect(detectFamily({ url }, [{ data: '{}', type: 'response.created' }])).toBe('openresponses');
    expect(
      detectFamily({ url }, [{ data: '{"type":"error","sequence_number":0,"message":"x"}' }]),
    ).toBe('openresponses');
    expect(
      detectFamily({ url: 'https://x.test/v2/call/stream' }, [
        { data: 'not json' },
        { data: '{"object":"chat.completion.chunk","choices":[]}' },
      ]),
    ).toBe('chat-completions');
    expect(detectFamily({ url }, [{ data: '{"hello":"world"}' }])).toBe('sse');
  });

  it('falls back to the body', () => {
    expect(detectFamily({ url: 'http://x.test/p', body: '{"model":"m","messages":[]}' })).toBe(
      'chat-completions',
    );
    expect(detectFamily({ url: 'http://x.test/p', body: { model: 'm', input: 'hi' } })).toBe(
      'openresponses',
    );
    expect(detectFamily({ url: 'http://x.test/p', body: 'nope' })).toBe('sse');
  });
});

describe('OpenAI-shaped lifecycle events', () => {
  // OpenAI's response object leaves out fields @openrouter/sdk requires (presence_penalty,
  // frequency_penalty, completed_at). A stream recorded from OpenAI must still be understood.
  const data = JSON.stringify({
    type: 'response.created',
    sequence_number: 0,
    response: {
      id: 'resp_openai',
      object: 'response',
      created_at: 1,
      status: 'in_progress',
      model: 'gpt-4.1',
      output: [],
      error: null,
      incomplete_details: null,
      instructions: null,
      metadata: {},
      parallel_tool_calls: true,
      temperature: 1,
      top_p: 1,
      tool_choice: 'auto',
      tools: [],
    },
  });

  it('is a known event whose keys extractStreamInfo reads', () => {
    const result = parseEventData('openresponses', { data });
    expect(result).toMatchObject({ ok: true, known: true });
    expect(extractStreamInfo('openresponses', result.ok ? result.value : undefined)).toEqual({
      responseId: 'resp_openai',
      model: 'gpt-4.1',
    });
  });

  it('still checks the types of those fields when they are present', () => {
    const mistyped = JSON.parse(data);
    mistyped.response.presence_penalty = 'high';
    const result = parseEventData('openresponses', { data: JSON.stringify(mistyped) });
    expect(result).toMatchObject({ ok: false, problem: 'schema-mismatch' });
    expect(!result.ok && result.path).toEqual(['response', 'presence_penalty']);
  });
});

describe('extractStreamInfo', () => {
  it('reads the keys of each family', () => {
    expect(extractStreamInfo('opper', { span_id: 'abc' })).toEqual({ upstreamSpanId: 'abc' });
    expect(extractStreamInfo('opper', { delta: 'x' })).toEqual({});
    expect(
      extractStreamInfo('openresponses', {
        type: 'response.created',
        response: { id: 'resp_1', model: 'gpt' },
      }),
    ).toEqual({ responseId: 'resp_1', model: 'gpt' });
    expect(extractStreamInfo('chat-completions', { id: 'gen-1', model: 'm' })).toEqual({
      responseId: 'gen-1',
      model: 'm',
    });
    expect(extractStreamInfo('sse', { id: 'x' })).toEqual({});
    expect(extractStreamInfo('opper', 'text')).toEqual({});
  });
});

describe('mayCarryStreamInfo', () => {
  it('is true for data that spells out a member extractStreamInfo reads, plainly or escaped', () => {
    const cases: Array<[Parameters<typeof mayCarryStreamInfo>[0], string, boolean]> = [
      ['opper', '{"span_id":"s-1"}', true],
      ['opper', '{"span\\u005fid":"s-1"}', true],
      ['opper', '{"delta":"hi"}', false],
      ['openresponses', '{"type":"response.created","response":{"id":"r"}}', true],
      ['openresponses', '{"type":"response.output_text.delta","delta":"hi"}', false],
      ['chat-completions', '{"model":"m"}', true],
      ['chat-completions', '{"id":"c"}', true],
      ['chat-completions', '{"choices":[]}', false],
      ['sse', '{"span_id":"s-1","id":"c"}', false],
      // A family that names no key: not even an escape makes it worth parsing.
      ['sse', '{"\\u0069d":"c"}', false],
    ];
    for (const [family, data, expected] of cases) {
      expect(mayCarryStreamInfo(family, data), `${family} ${data}`).toBe(expected);
      // Whatever it rules out, extractStreamInfo finds nothing in.
      if (!expected) expect(extractStreamInfo(family, JSON.parse(data))).toEqual({});
    }
  });
});

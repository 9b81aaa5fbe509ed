import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleOutput } from '../src/assemble-output.js';
import { fixturesDirectory, samplesDirectory, splitSse } from './split-sse.js';

const sample = (name: string) => splitSse(readFileSync(`${samplesDirectory}${name}`, 'utf8'));
const fixture = (name: string) => splitSse(readFileSync(`${fixturesDirectory}${name}`, 'utf8'));

describe('assembleOutput — OpenResponses', () => {
  it('joins text deltas of a message and reads usage', () => {
    const output = assembleOutput('openresponses', sample('openresponses-text.sse'));
    expect(output.text).toBe('Paris is the capital of France.');
    expect(output.items).toEqual([
      {
        outputIndex: 0,
        type: 'message',
        id: 'msg_01JD8Z3K5R',
        status: 'completed',
        text: 'Paris is the capital of France.',
      },
    ]);
    expect(output.status).toBe('completed');
    expect(output.usage).toEqual({
      inputTokens: 12,
      outputTokens: 7,
      totalTokens: 19,
      cachedTokens: 0,
      reasoningTokens: 0,
    });
    expect(output).toMatchObject({ responseId: 'resp_01JD8Z3K4Q', model: 'openai/gpt-4o-mini' });
    expect(output.problems).toEqual([]);
  });

  it('builds text from deltas alone when no .done events arrive', () => {
    const events = sample('openresponses-text.sse').filter(
      (event) => !event.type?.endsWith('.done') && event.type !== 'response.completed',
    );
    const output = assembleOutput('openresponses', events);
    expect(output.text).toBe('Paris is the capital of France.');
    expect(output.status).toBe('unfinished');
  });

  it('lets the .done text replace what the deltas built', () => {
    const events = sample('openresponses-text.sse').map((event) =>
      event.type === 'response.output_text.delta'
        ? { ...event, data: event.data.replace('"delta":" is"', '"delta":" IS"') }
        : event,
    );
    const withoutDone = events.filter(
      (event) =>
        !event.type?.includes('done') &&
        event.type !== 'response.completed' &&
        event.type !== 'response.content_part.done',
    );
    expect(assembleOutput('openresponses', withoutDone).text).toBe(
      'Paris IS the capital of France.',
    );
    expect(assembleOutput('openresponses', events).text).toBe('Paris is the capital of France.');
  });

  it('reads a function call: name, call id and streamed arguments', () => {
    const output = assembleOutput('openresponses', sample('openresponses-function-call.sse'));
    expect(output.functionCalls).toEqual([
      {
        outputIndex: 0,
        itemId: 'fc_01JD8Z3K6S',
        callId: 'call_7Qx',
        name: 'get_weather',
        arguments: '{"city":"Paris","units":"celsius"}',
      },
    ]);
    expect(output.text).toBe('');
    // The arguments also assemble from the deltas alone.
    const deltasOnly = sample('openresponses-function-call.sse').slice(0, 6);
    expect(assembleOutput('openresponses', deltasOnly).functionCalls[0]?.arguments).toBe(
      '{"city":"Paris","units":"celsius"}',
    );
  });

  it('reads reasoning summaries before the message', () => {
    const output = assembleOutput('openresponses', sample('openresponses-reasoning.sse'));
    expect(output.reasoning).toEqual(['Compare the two numbers.']);
    expect(output.items.map((item) => item.type)).toEqual(['reasoning', 'message']);
    expect(output.text).toBe('9.11 < 9.9');
    expect(output.usage?.reasoningTokens).toBe(22);
  });

  it('reports an error event that ends the stream', () => {
    const output = assembleOutput('openresponses', sample('openresponses-error.sse'));
    expect(output.status).toBe('error');
    expect(output.error).toEqual({
      type: 'error',
      code: 'rate_limit_exceeded',
      message: 'Rate limit exceeded. Please try again later.',
      eventIndex: 1,
    });
  });

  it('keeps the text streamed before an error mid-stream', () => {
    const output = assembleOutput('openresponses', fixture('openresponses-error-midstream.sse'));
    expect(output.text).toBe('Half a sent');
    expect(output.status).toBe('error');
    expect(output.error).toMatchObject({ code: 'server_error', eventIndex: 3 });
  });

  it('reports an incomplete response and its reason', () => {
    const output = assembleOutput('openresponses', sample('openresponses-incomplete.sse'));
    expect(output.status).toBe('incomplete');
    expect(output.finishReason).toBe('max_output_tokens');
    expect(output.error).toBeUndefined();
  });

  it('reports a failed response with its error and partial text', () => {
    const output = assembleOutput('openresponses', fixture('openresponses-failed.sse'));
    expect(output.status).toBe('failed');
    expect(output.error).toMatchObject({ code: 'server_error', message: 'The model crashed.' });
    expect(output.items[0]).toMatchObject({ text: 'Once upon', status: 'incomplete' });
  });

  it('reads refusals separately from text', () => {
    const output = assembleOutput(
      'openresponses',
      fixture('openresponses-annotations-refusal.sse'),
    );
    expect(output.text).toBe('See example.com.');
    expect(output.refusal).toBe("I can't share more.");
  });

  it('reads reasoning text, custom tool input, patch diffs and function calls in order', () => {
    const output = assembleOutput('openresponses', fixture('openresponses-reasoning-tools.sse'));
    expect(output.reasoning).toEqual(['The user wants a patch.']);
    expect(output.functionCalls.map(({ name, arguments: args }) => [name, args])).toEqual([
      ['run_sql', 'SELECT 1;'],
      ['lookup', '{"q":"tapes"}'],
    ]);
    expect(output.items[2]).toMatchObject({
      type: 'apply_patch_call',
      diff: '@@ -1 +1 @@\n-a\n+b\n',
    });
  });

  it('reads code-interpreter code', () => {
    const output = assembleOutput('openresponses', fixture('openresponses-hosted-tools.sse'));
    expect(output.items.map((item) => item.type)).toEqual([
      'image_generation_call',
      'web_search_call',
      'code_interpreter_call',
    ]);
    expect(output.items[2]?.code).toBe('print(1+1)');
  });

  it('fills items from the final response when only lifecycle events were streamed', () => {
    const completed = sample('openresponses-text.sse').filter(
      (event) => event.type === 'response.completed',
    );
    expect(assembleOutput('openresponses', completed).text).toBe('Paris is the capital of France.');
  });
});

describe('assembleOutput — Opper', () => {
  it('joins text deltas and reads the span id', () => {
    const output = assembleOutput('opper', sample('opper-text.sse'));
    expect(output.text).toBe('The capital of France is Paris.');
    expect(output.upstreamSpanId).toBe('3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f');
    expect(output.status).toBe('completed');
  });

  it('folds JSON deltas by json_path, concatenating strings and placing scalars', () => {
    expect(assembleOutput('opper', sample('opper-json.sse')).json).toEqual({
      people: [{ name: 'Ada Lovelace', age: 36, mathematician: true }],
    });
    expect(assembleOutput('opper', fixture('opper-json-nested.sse')).json).toEqual({
      people: [{ name: 'Ada Lovelace' }, { name: 'Alan Turing', born: 1912, fictional: false }],
      topics: ['math', 'computing'],
      meta: { score: 0.5 },
    });
  });

  it('keeps the text before an error chunk and reports the error', () => {
    const output = assembleOutput('opper', sample('opper-error.sse'));
    expect(output.text).toBe('Partial');
    expect(output.status).toBe('error');
    expect(output.error).toEqual({
      type: 'ModelError',
      message: 'upstream model timed out',
      eventIndex: 2,
    });
  });

  it('never lets a json_path reach a prototype', () => {
    const output = assembleOutput('opper', [
      { data: '{"delta":"x","json_path":"__proto__.polluted","chunk_type":"json"}' },
      { data: '{"delta":"y","json_path":"a[\\"b.c\\"]","chunk_type":"json"}' },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(output.json as object)).toEqual(['__proto__', 'a']);
    expect((output.json as { a: Record<string, string> }).a['b.c']).toBe('y');
  });
});

describe('assembleOutput — chat completions', () => {
  it('joins content, reads finish reason and usage', () => {
    const output = assembleOutput('chat-completions', sample('openrouter-chat.sse'));
    expect(output.text).toBe('Hello');
    expect(output.finishReason).toBe('stop');
    expect(output.status).toBe('completed');
    expect(output.usage).toEqual({ inputTokens: 5, outputTokens: 2, totalTokens: 7 });
    expect(output.problems).toEqual([]);
  });

  it('assembles streamed tool calls by index', () => {
    const output = assembleOutput('chat-completions', fixture('chat-tool-calls.sse'));
    expect(output.functionCalls).toEqual([
      { outputIndex: 0, callId: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { outputIndex: 0, callId: 'call_b', name: 'get_time', arguments: '{}' },
    ]);
    expect(output.finishReason).toBe('tool_calls');
    expect(output.usage?.cachedTokens).toBe(10);
  });

  it('reports an error mid-stream and keeps the text and reasoning before it', () => {
    const output = assembleOutput('chat-completions', fixture('chat-error-midstream.sse'));
    expect(output.text).toBe('Par');
    expect(output.reasoning).toEqual(['Short answer.']);
    expect(output.status).toBe('error');
    expect(output.error).toMatchObject({ code: 'server_error', eventIndex: 1 });
  });

  it('calls a length cut-off incomplete and no finish reason unfinished', () => {
    const chunk = (finish: string | null) =>
      `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"a"},"finish_reason":${JSON.stringify(finish)}}]}`;
    expect(assembleOutput('chat-completions', [{ data: chunk('length') }]).status).toBe(
      'incomplete',
    );
    expect(assembleOutput('chat-completions', [{ data: chunk(null) }]).status).toBe('unfinished');
  });
});

describe('assembleOutput — plain sse', () => {
  it('joins the data of every event', () => {
    const output = assembleOutput('sse', [{ data: 'one' }, { data: '{"two":2}' }]);
    expect(output.text).toBe('one\n{"two":2}');
  });
});

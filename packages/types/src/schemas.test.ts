import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CHAT_COMPLETIONS_DONE,
  chatCompletionChunkSchema,
  chatCompletionsStreamEventSchema,
} from './chat-completions.js';
import {
  OPENRESPONSES_EVENT_TYPES,
  type OpenResponsesEventOfType,
  openResponsesEventSchema,
  openResponsesKnownEventSchema,
  openResponsesStreamEventSchema,
  outputItemSchema,
} from './openresponses.js';
import { opperChunkSchema, opperStreamEventSchema } from './opper.js';
import { parseEventData } from './parse-event.js';
import { rawSseEventSchema, sseEventSchema } from './sse-event.js';

describe('SSE envelope', () => {
  it('is generic over the parsed data and checks id, event and retry', () => {
    const schema = sseEventSchema(z.object({ n: z.number() }));
    expect(schema.parse({ id: '1', event: 'message', data: { n: 1 }, retry: 1000 })).toEqual({
      id: '1',
      event: 'message',
      data: { n: 1 },
      retry: 1000,
    });
    expect(schema.safeParse({ data: { n: 'x' } }).success).toBe(false);
    expect(rawSseEventSchema.safeParse({ data: 'x', retry: 1.5 }).success).toBe(false);
    expect(rawSseEventSchema.safeParse({ event: 'x' }).success).toBe(false);
  });

  it('types whole Opper, OpenResponses and chat-completions events', () => {
    expect(
      opperStreamEventSchema.parse({ event: 'message', data: { delta: 'Hello', span_id: 'abc' } })
        .data.delta,
    ).toBe('Hello');
    expect(openResponsesStreamEventSchema.parse({ data: '[DONE]' }).data).toBe('[DONE]');
    expect(chatCompletionsStreamEventSchema.parse({ data: CHAT_COMPLETIONS_DONE }).data).toBe(
      '[DONE]',
    );
    expect(chatCompletionsStreamEventSchema.safeParse({ data: '[done]' }).success).toBe(false);
  });
});

describe('Opper chunk schema', () => {
  it('takes every field as optional and nullable, and delta as string, number or boolean', () => {
    expect(opperChunkSchema.parse({})).toEqual({});
    for (const delta of ['a', 1.5, true, null]) {
      expect(opperChunkSchema.safeParse({ delta }).success).toBe(true);
    }
    expect(opperChunkSchema.safeParse({ delta: [1] }).success).toBe(false);
    expect(opperChunkSchema.safeParse({ chunk_type: 'json' }).success).toBe(true);
    expect(opperChunkSchema.safeParse({ chunk_type: 'other' }).success).toBe(false);
  });
});

describe('OpenResponses schemas', () => {
  it('type each known event by its `type`', () => {
    const result = parseEventData('openresponses', {
      data: '{"type":"response.function_call_arguments.done","sequence_number":1,"item_id":"f","output_index":0,"name":"n","arguments":"{}"}',
    });
    if (!(result.ok && result.known)) throw new Error('expected a known event');
    if (result.value.type !== 'response.function_call_arguments.done') {
      throw new Error('expected function_call_arguments.done');
    }
    // Narrowing on `type` gives the event's own fields.
    const event: OpenResponsesEventOfType<'response.function_call_arguments.done'> = result.value;
    expect([event.name, event.arguments]).toEqual(['n', '{}']);
  });

  it('list 49 distinct event types', () => {
    expect(new Set(OPENRESPONSES_EVENT_TYPES).size).toBe(49);
  });

  it('reject extra top-level fields on known events but keep extra nested fields', () => {
    const event = {
      type: 'response.output_item.added',
      sequence_number: 1,
      output_index: 0,
      item: { type: 'message', id: 'm', role: 'assistant', content: [], phase: 'final_answer' },
    };
    const parsed = openResponsesKnownEventSchema.parse(event);
    expect(parsed).toEqual(event);
    expect(openResponsesKnownEventSchema.safeParse({ ...event, extra: 1 }).success).toBe(false);
  });

  it('accept new kinds of output item, as the SDK does', () => {
    expect(outputItemSchema.parse({ type: 'openrouter:web_fetch', id: 'x', url: 'u' })).toEqual({
      type: 'openrouter:web_fetch',
      id: 'x',
      url: 'u',
    });
    expect(outputItemSchema.safeParse({ id: 'no type' }).success).toBe(false);
  });

  it('return the very object for an unknown event, never a copy', () => {
    const unknown = { zeta: 1, type: 'response.new', alpha: 2 };
    expect(openResponsesEventSchema.parse(unknown)).toBe(unknown);
    const extra = { type: 'response.refusal.delta', extra: true };
    expect(openResponsesEventSchema.parse(extra)).toBe(extra);
    expect(openResponsesEventSchema.safeParse({ sequence_number: 1 }).success).toBe(false);
  });

  it('round-trip any unknown event byte for byte through parseEventData', () => {
    const knownTypes = new Set<string>(OPENRESPONSES_EVENT_TYPES);
    fc.assert(
      fc.property(
        fc.string().filter((type) => !knownTypes.has(type)),
        fc.dictionary(
          fc.string().filter((key) => key !== 'type'),
          fc.jsonValue(),
        ),
        (type, fields) => {
          const data = JSON.stringify({ ...fields, type });
          const result = parseEventData('openresponses', { data });
          expect(result).toMatchObject({ ok: true, known: false });
          expect(result.ok && JSON.stringify(result.value)).toBe(data);
        },
      ),
    );
  });

  it('keep a known event with any extra field whole, as unknown', () => {
    const base = {
      type: 'response.output_text.delta',
      sequence_number: 3,
      item_id: 'm',
      output_index: 0,
      content_index: 0,
      delta: 'x',
      logprobs: [],
    };
    fc.assert(
      fc.property(
        fc.string().filter((key) => !(key in base) && key !== 'obfuscation' && key !== '__proto__'),
        fc.jsonValue(),
        (key, value) => {
          const data = JSON.stringify({ ...base, [key]: value });
          const result = parseEventData('openresponses', { data });
          expect(result).toMatchObject({ ok: true, known: false });
          expect(result.ok && JSON.stringify(result.value)).toBe(data);
        },
      ),
    );
  });
});

describe('chat-completion chunk schema', () => {
  it('keeps gateway fields and checks the ones it knows', () => {
    const chunk = {
      id: 'c',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      provider: 'OpenAI',
      choices: [{ index: 0, delta: { content: 'a', annotations: [] }, finish_reason: null }],
    };
    expect(chatCompletionChunkSchema.parse(chunk)).toEqual(chunk);
    expect(chatCompletionChunkSchema.safeParse({ ...chunk, created: 'now' }).success).toBe(false);
    // finish_reason is required (null until the end), as @openrouter/sdk requires it.
    const withoutFinish = { ...chunk, choices: [{ index: 0, delta: { content: 'a' } }] };
    expect(
      parseEventData('chat-completions', { data: JSON.stringify(withoutFinish) }),
    ).toMatchObject({
      ok: false,
      problem: 'schema-mismatch',
      path: ['choices', 0, 'finish_reason'],
    });
  });
});

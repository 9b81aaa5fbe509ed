import { readdirSync, readFileSync } from 'node:fs';
import type { StreamFamily } from '@tapedeck/types';
import { extractStreamInfo, parseEventData } from '@tapedeck/types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LearntKeys, learnStreamKeys } from './stream-keys.js';

/** The general path: every event through the schema check, as the recorder did before. */
function reference(
  family: StreamFamily,
  events: ReadonlyArray<{ data: string; type: string }>,
  learnt: LearntKeys,
): LearntKeys {
  let result = learnt;
  for (const event of events) {
    const parsed = parseEventData(family, event);
    if (!parsed.ok) continue;
    result = { ...extractStreamInfo(family, parsed.value), ...result };
    if (result.upstreamSpanId || result.responseId) break;
  }
  return result;
}

const text = fc.constantFrom('', 'resp_1', 'gpt-x', 'span-9', 42, null);
// Leading events of each family, valid and broken: keys in events that match their schema, in
// events that do not, and in data that is not JSON at all.
const eventData = fc.oneof(
  fc.record({
    delta: fc.constantFrom('Hel', ''),
    span_id: text,
    chunk_type: fc.constantFrom('text', 'json', 7),
    json_path: fc.constantFrom(null, 'a.b'),
  }),
  fc.record({
    type: fc.constantFrom('response.created', 'response.in_progress', 'response.completed'),
    sequence_number: fc.nat(5),
    response: fc.oneof(
      fc.record({ id: text, model: text, object: fc.constant('response'), status: text }),
      fc.constant(null),
    ),
  }),
  fc.record({
    type: fc.constantFrom('response.output_text.delta', 'response.brand_new'),
    sequence_number: fc.nat(5),
    item_id: text,
    output_index: fc.constant(0),
    content_index: fc.constant(0),
    delta: text,
  }),
  fc.record({
    id: text,
    object: fc.constantFrom('chat.completion.chunk', 'other'),
    created: fc.nat(),
    model: text,
    choices: fc.constantFrom([], [{ index: 0, delta: { content: 'x' }, finish_reason: null }]),
  }),
  fc.record({ error: fc.record({ message: text }) }),
);
const SAMPLES = '/work/shared/formats/samples';
/** The events of a sample stream (their `event:` type and joined `data` lines). */
function sampleEvents(name: string) {
  return readFileSync(`${SAMPLES}/${name}`, 'utf8')
    .split(/\n\n/)
    .map((block) => {
      const lines = block.split('\n');
      const type = lines.find((line) => line.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      return { type, data };
    })
    .filter((each) => each.data !== '');
}
// Real events (valid, with their keys) beside generated ones.
const samples = readdirSync(SAMPLES)
  .filter((name) => name.endsWith('.sse'))
  .flatMap(sampleEvents);

const event = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...samples) },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constantFrom('message', 'response.created', 'response.output_text.delta'),
      data: fc.oneof(
        { weight: 6, arbitrary: eventData.map((value) => JSON.stringify(value)) },
        // Member names spelt with escapes (still the same names to JSON.parse), and a
        // look-alike that is not the name.
        {
          weight: 2,
          arbitrary: fc
            .tuple(
              eventData,
              fc.constantFrom(
                ['"span_id"', '"span\\u005fid"'],
                ['"response"', '"\\u0072esponse"'],
                ['"id"', '"\\u0069d"'],
                ['"model"', '"mod\\u0065l"'],
                ['"response"', '"responses"'],
              ),
            )
            .map(([value, [name, spelt]]) => JSON.stringify(value).replaceAll(name, spelt)),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom('[DONE]', ' [DONE]', 'not json', '{"span_id":', '7'),
        },
      ),
    }),
  },
);

describe('learnStreamKeys', () => {
  it('finds the same keys as checking every event against its schema', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<StreamFamily>('opper', 'openresponses', 'chat-completions', 'sse'),
        fc.array(event, { maxLength: 16 }),
        fc.constantFrom<LearntKeys>({}, { model: 'earlier' }),
        (family, events, learnt) => {
          expect(learnStreamKeys(family, events, learnt)).toEqual(
            reference(family, events, learnt),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads a key whose member name is spelt with escapes', () => {
    const spelt = (name: string, member: string, escaped: string) =>
      sampleEvents(name).map((each) => ({ ...each, data: each.data.replaceAll(member, escaped) }));
    const responses = spelt('openresponses-text.sse', '"response"', '"\\u0072esponse"');
    expect(responses[0]?.data).toContain('\\u0072esponse');
    expect(learnStreamKeys('openresponses', responses, {})).toEqual({
      responseId: 'resp_01JD8Z3K4Q',
      model: 'openai/gpt-4o-mini',
    });
    const opper = spelt('opper-text.sse', '"span_id"', '"span\\u005fid"');
    expect(learnStreamKeys('opper', opper, {})).toEqual({
      upstreamSpanId: '3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f',
    });
  });

  it('learns the keys of the sample streams', () => {
    expect(learnStreamKeys('opper', sampleEvents('opper-text.sse'), {})).toEqual({
      upstreamSpanId: '3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f',
    });
    expect(learnStreamKeys('openresponses', sampleEvents('openresponses-text.sse'), {})).toEqual({
      responseId: 'resp_01JD8Z3K4Q',
      model: 'openai/gpt-4o-mini',
    });
  });
});

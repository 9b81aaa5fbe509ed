import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deltaTemplateOf, readDeltaFields, readDeltaFieldsByTemplate } from './fast-delta.js';

describe('readDeltaFields', () => {
  it('agrees with JSON.parse on any delta text and field values', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.nat(),
        fc.nat(50),
        fc.option(fc.nat(5), { nil: undefined }),
        fc
          .string({ unit: 'grapheme-ascii' })
          .filter((id) => !id.includes('\\') && !id.includes('"')),
        (delta, sequence, outputIndex, contentIndex, itemId) => {
          const event = {
            type: 'response.output_text.delta',
            sequence_number: sequence,
            item_id: itemId,
            output_index: outputIndex,
            ...(contentIndex === undefined ? {} : { content_index: contentIndex }),
            delta,
            logprobs: [],
          };
          expect(readDeltaFields(JSON.stringify(event))).toEqual({
            sequenceNumber: sequence,
            outputIndex,
            contentIndex,
            itemId,
            characters: delta.length,
          });
        },
      ),
    );
  });

  it('is not fooled by keys quoted inside the delta', () => {
    const data = JSON.stringify({
      type: 'response.output_text.delta',
      delta: '"sequence_number":7,"item_id":"x"',
      sequence_number: 3,
      item_id: 'msg_1',
      output_index: 0,
    });
    expect(readDeltaFields(data)).toMatchObject({ sequenceNumber: 3, itemId: 'msg_1' });
  });

  it('falls back (undefined) when the shape is not the compact one', () => {
    expect(readDeltaFields('{"type":"x","delta": "spaced"}')).toBeUndefined();
    expect(readDeltaFields('{"delta":"unterminated')).toBeUndefined();
    expect(readDeltaFields('{"delta":"a","sequence_number":-1}')).toBeUndefined();
    expect(readDeltaFields('{"delta":"a","sequence_number":null}')).toBeUndefined();
    // A fraction or an exponent is not an index: JSON.parse gives 1.5, not 1.
    expect(readDeltaFields('{"delta":"a","sequence_number":1.5}')).toBeUndefined();
    expect(readDeltaFields('{"delta":"a","output_index":2e3}')).toBeUndefined();
    // An escaped item id would need decoding (JSON.parse gives 'a"b' and 'a\nb').
    expect(readDeltaFields(JSON.stringify({ item_id: 'a"b', delta: 'a' }))).toBeUndefined();
    expect(readDeltaFields(JSON.stringify({ item_id: 'a\nb', delta: 'a' }))).toBeUndefined();
  });
});

describe('readDeltaFieldsByTemplate', () => {
  const keys = [
    'type',
    'sequence_number',
    'item_id',
    'output_index',
    'content_index',
    'summary_index',
    'delta',
    'logprobs',
    'obfuscation',
  ] as const;
  // What stays the same between two deltas of one stream, and what changes from event to event.
  const layout = fc.record({
    order: fc.shuffledSubarray([...keys], { minLength: 1 }),
    type: fc.constantFrom('response.output_text.delta', 'response.reasoning_summary_text.delta'),
    itemId: fc.oneof(fc.string(), fc.constant(null)),
    outputIndex: fc.oneof(fc.nat(5), fc.constant(null), fc.constant(-1)),
    contentIndex: fc.oneof(fc.nat(5), fc.constant(null)),
    summaryIndex: fc.oneof(fc.nat(5), fc.constant(null)),
  });
  const varying = fc.record({
    sequence: fc.oneof(fc.nat(), fc.constant(null), fc.constant(1.5)),
    delta: fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('"sequence_number":7', '\\')),
    logprobs: fc.array(fc.record({ token: fc.string(), item_id: fc.string() }), { maxLength: 2 }),
    obfuscation: fc.string(),
  });
  type Layout = typeof layout extends fc.Arbitrary<infer T> ? T : never;
  type Varying = typeof varying extends fc.Arbitrary<infer T> ? T : never;
  function eventOf(shape: Layout, values: Varying): string {
    const event: Record<string, unknown> = {};
    const valueByKey: Record<(typeof keys)[number], unknown> = {
      type: shape.type,
      sequence_number: values.sequence,
      item_id: shape.itemId,
      output_index: shape.outputIndex,
      content_index: shape.contentIndex,
      summary_index: shape.summaryIndex,
      delta: values.delta,
      logprobs: values.logprobs,
      obfuscation: values.obfuscation,
    };
    for (const key of shape.order.includes('delta')
      ? shape.order
      : [...shape.order, 'delta' as const]) {
      event[key] = valueByKey[key];
    }
    return JSON.stringify(event);
  }

  // A template learnt from one event, and a later event of the same layout or another one.
  const laterEvent = fc
    .tuple(layout, varying, layout, varying, fc.boolean())
    .map(([shape, first, other, next, same]) => ({
      template: deltaTemplateOf(eventOf(shape, first)),
      data: eventOf(same ? shape : other, next),
    }))
    .filter(
      (pair): pair is { template: NonNullable<typeof pair.template>; data: string } =>
        pair.template !== undefined,
    );

  it('gives what readDeltaFields gives, or undefined, for any later event', () => {
    fc.assert(
      fc.property(laterEvent, ({ template, data }) => {
        const byTemplate = readDeltaFieldsByTemplate(data, template);
        if (byTemplate !== undefined) expect(byTemplate).toEqual(readDeltaFields(data));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a prefix and the data as the data alone when given the prefix joined to the head', () => {
    fc.assert(
      fc.property(laterEvent, fc.string({ unit: 'binary' }), ({ template, data }, prefix) => {
        const joined = readDeltaFieldsByTemplate(
          prefix + data,
          template,
          undefined,
          prefix + template.head,
        );
        expect(joined).toEqual(readDeltaFieldsByTemplate(data, template));
      }),
      { numRuns: 2000 },
    );
  });

  it('does not read a missing sequence number as 0', () => {
    const template = deltaTemplateOf('{"sequence_number":1,"delta":"a"}');
    expect(template?.sequenceHole).toBe(true);
    const data = '{"sequence_number":,"delta":"b"}';
    expect(readDeltaFields(data)).toBeUndefined();
    expect(readDeltaFieldsByTemplate(data, template!)).toBeUndefined();
  });

  it('stops at the end of data that ends in the digits of a sequence number', () => {
    // These loops once ran forever past the end (charCodeAt gives NaN there).
    const hole = deltaTemplateOf('{"sequence_number":1,"delta":"a"}');
    expect(readDeltaFieldsByTemplate('{"sequence_number":12', hole!)).toBeUndefined();
    const after = deltaTemplateOf('{"delta":"a","sequence_number":1}');
    expect(after?.keysAfter).toContain('"sequence_number":');
    const data = '{"delta":"b","sequence_number":12';
    expect(readDeltaFieldsByTemplate(data, after!)).toEqual(readDeltaFields(data));
  });

  it('reads every delta of a stream with a steady layout', () => {
    fc.assert(
      fc.property(fc.array(varying, { minLength: 2, maxLength: 20 }), (events) => {
        const shape: Layout = {
          order: [...keys],
          type: 'response.output_text.delta',
          itemId: 'msg_1',
          outputIndex: 0,
          contentIndex: 0,
          summaryIndex: null,
        };
        const template = deltaTemplateOf(eventOf(shape, { ...events[0]!, sequence: 0 }));
        expect(template).toBeDefined();
        for (const values of events) {
          const data = eventOf(shape, { ...values, sequence: values.sequence ?? 3 });
          const expected = readDeltaFields(data);
          const byTemplate = readDeltaFieldsByTemplate(data, template!);
          if (expected !== undefined && Number.isInteger(values.sequence ?? 3)) {
            expect(byTemplate).toEqual(expected);
          } else {
            expect(byTemplate).toBeUndefined();
          }
        }
      }),
    );
  });
});

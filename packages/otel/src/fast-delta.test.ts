import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readDeltaFields } from './fast-delta.js';

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
  });
});

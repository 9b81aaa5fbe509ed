import { readFileSync } from 'node:fs';
import { createParser as createAnchorParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { collect, createRandom, splitRandomly } from '../test/helpers.js';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));
const latin1 = new TextDecoder('latin1');

describe('raw .sse fixtures', () => {
  const names = [
    'openrouter-chat.sse',
    'openresponses-text.sse',
    'crlf-keepalive.sse',
    'cr-only.sse',
    'bom-unterminated.sse',
  ];

  it.each(names)(
    '%s: the same events in any chunking, ranges that tile the file, what eventsource-parser sees',
    (name) => {
      const bytes = fixture(name);
      const whole = collect([bytes]);
      const random = createRandom(name.length);
      for (let round = 0; round < 50; round++)
        expect(collect(splitRandomly(bytes, random))).toEqual(whole);

      // Each event's range starts where a block starts and ends with the blank line that closes it.
      let previousEnd = 0;
      for (const event of whole.events) {
        expect(event.byteStart).toBeGreaterThanOrEqual(previousEnd);
        expect(latin1.decode(bytes.subarray(event.byteEnd - 2, event.byteEnd))).toMatch(
          /^(\n\n|\r\r|\r\n)$/,
        );
        previousEnd = event.byteEnd;
      }

      const anchor: Array<{ type: string; data: string }> = [];
      const parser = createAnchorParser({
        onEvent: ({ event, data }) => anchor.push({ type: event ?? 'message', data }),
      });
      parser.feed(new TextDecoder().decode(bytes));
      expect(whole.events.map(({ type, data }) => ({ type, data }))).toEqual(anchor);
    },
  );

  it('openresponses-text.sse: 15 typed events and a [DONE] after a keep-alive comment', () => {
    const { events, comments, errors } = collect([fixture('openresponses-text.sse')]);
    expect(comments).toEqual(['OPENROUTER PROCESSING']);
    expect(events).toHaveLength(16);
    expect(events[0]).toMatchObject({ type: 'response.created', index: 0, byteStart: 25 });
    for (const event of events.slice(0, 15)) expect(JSON.parse(event.data).type).toBe(event.type);
    expect(events[15]).toMatchObject({ type: 'message', data: '[DONE]', index: 15 });
    expect(errors).toEqual([]);
  });

  it('crlf-keepalive.sse: ids persist, retry belongs to its event, comments stay outside events', () => {
    const { events, comments, retries } = collect([fixture('crlf-keepalive.sse')]);
    expect(
      events.map(({ type, data, id, retry, comments }) => ({ type, data, id, retry, comments })),
    ).toEqual([
      { type: 'delta', data: '{"text":"héllo"}', id: '1', retry: 3000, comments: [] },
      { type: 'delta', data: 'line one\nline two', id: '2', retry: undefined, comments: [] },
      { type: 'done', data: '[DONE]', id: '2', retry: undefined, comments: [] },
    ]);
    expect(comments).toEqual(['connected', 'OPENROUTER PROCESSING']);
    expect(retries).toEqual([3000]);
    expect(events[0]?.byteStart).toBe(15);
  });

  it('cr-only.sse: CR line ends, including the last one', () => {
    const { events } = collect([fixture('cr-only.sse')]);
    expect(
      events.map(({ type, data, byteStart, byteEnd }) => ({ type, data, byteStart, byteEnd })),
    ).toEqual([
      { type: 'a', data: '1', byteStart: 0, byteEnd: 18 },
      { type: 'message', data: '2\n3', byteStart: 18, byteEnd: 35 },
    ]);
  });

  it('bom-unterminated.sse: the BOM counts in offsets and the cut-off event comes back as bytes', () => {
    const { events, errors } = collect([fixture('bom-unterminated.sse')]);
    expect(events).toMatchObject([{ data: 'first', id: '9', byteStart: 3, byteEnd: 22 }]);
    expect(errors).toEqual([
      {
        type: 'incomplete-event',
        code: 'INVALID_EVENT',
        byteOffset: 22,
        bytes: 'data: {"partial": tr',
      },
    ]);
  });
});

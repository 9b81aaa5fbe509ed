import { describe, expect, it } from 'vitest';
import { type ParsedEvent, type ParseError, SseEncoderStream, SseParserStream } from './index.js';

const encoder = new TextEncoder();

async function readAll<T>(stream: ReadableStream<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream as unknown as AsyncIterable<T>) items.push(item);
  return items;
}

function streamOf<T>(items: T[]): ReadableStream<T> {
  return new ReadableStream({
    start(controller) {
      for (const item of items) controller.enqueue(item);
      controller.close();
    },
  });
}

describe('SseParserStream', () => {
  it('turns byte chunks into events, whatever the chunking', async () => {
    const bytes = encoder.encode('event: a\ndata: 1\n\n: note\n\nid: 9\ndata: 2\r\n\r\n');
    const chunks = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
    const events = await readAll(streamOf(chunks).pipeThrough(new SseParserStream()));
    expect(
      events.map(({ type, data, id, byteStart, byteEnd }) => ({
        type,
        data,
        id,
        byteStart,
        byteEnd,
      })),
    ).toEqual([
      { type: 'a', data: '1', id: '', byteStart: 0, byteEnd: 18 },
      { type: 'message', data: '2', id: '9', byteStart: 26, byteEnd: 43 },
    ]);
  });

  it('accepts strings and reports comments and retries through its options', async () => {
    const comments: string[] = [];
    const retries: number[] = [];
    const events = await readAll(
      streamOf([': hi\nretry: 50\ndata: x', '\n\n']).pipeThrough(
        new SseParserStream({
          onComment: (c) => comments.push(c),
          onRetry: (r) => retries.push(r),
        }),
      ),
    );
    expect(events.map((event) => event.data)).toEqual(['x']);
    expect(comments).toEqual(['hi']);
    expect(retries).toEqual([50]);
  });

  it('in framing mode yields events whose data decodes on access', async () => {
    const [event] = await readAll(
      streamOf([encoder.encode('data: lazy\n\n')]).pipeThrough(
        new SseParserStream({ mode: 'framing' }),
      ),
    );
    expect(event?.data).toBe('lazy');
  });

  it('ignores an incomplete last event by default and hands it to an onError function', async () => {
    const input = () => streamOf([encoder.encode('data: 1\n\ndata: cut')]);
    expect((await readAll(input().pipeThrough(new SseParserStream()))).map((e) => e.data)).toEqual([
      '1',
    ]);
    const errors: ParseError[] = [];
    await readAll(
      input().pipeThrough(new SseParserStream({ onError: (error) => errors.push(error) })),
    );
    expect(errors.map((error) => [error.type, error.byteOffset])).toEqual([
      ['incomplete-event', 9],
    ]);
  });

  it("errors the stream with the ParseError when onError is 'terminate'", async () => {
    const stream = streamOf([encoder.encode(`data: ${'x'.repeat(100)}\n\n`)]).pipeThrough(
      new SseParserStream({ maxEventBytes: 50, onError: 'terminate' }),
    );
    await expect(readAll(stream)).rejects.toMatchObject({
      type: 'event-too-large',
      code: 'SSE_LIMIT_EXCEEDED',
    });
  });
});

describe('SseEncoderStream', () => {
  it('encodes events that SseParserStream reads back', async () => {
    const input = [
      { data: 'one', event: 'a', id: '1' },
      { data: 'two\nlines', comments: ['c'] },
      { data: '', retry: 10 },
    ];
    const events: ParsedEvent[] = await readAll(
      streamOf(input).pipeThrough(new SseEncoderStream()).pipeThrough(new SseParserStream()),
    );
    expect(
      events.map(({ type, data, id, retry, comments }) => ({ type, data, id, retry, comments })),
    ).toEqual([
      { type: 'a', data: 'one', id: '1', retry: undefined, comments: [] },
      { type: 'message', data: 'two\nlines', id: '1', retry: undefined, comments: ['c'] },
      { type: 'message', data: '', id: '1', retry: 10, comments: [] },
    ]);
  });

  it('errors the stream on an event it cannot write', async () => {
    const stream = streamOf([{ data: 'x', event: 'bad\ntype' }]).pipeThrough(
      new SseEncoderStream(),
    );
    await expect(readAll(stream)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

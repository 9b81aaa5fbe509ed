import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParser } from '@tapedeck/sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecorder, createSqliteStore } from '../src/index.js';
import { concatBytes, expectSameBytes, readChunks, splitEvery, startUpstream } from './upstream.js';

const STREAMS = 12;
const encoder = new TextEncoder();
// Each stream has its own content and chunk size, so bytes from one arena showing up in another
// stream's tape cannot go unnoticed.
const streams = Array.from({ length: STREAMS }, (_, stream) =>
  encoder.encode(
    Array.from(
      { length: 1500 + stream * 100 },
      (_, index) =>
        `event: delta.${stream}\ndata: {"stream":${stream},"index":${index},"text":"${String.fromCharCode(97 + stream).repeat(20 + ((index * 7) % 90))}"}\n\n`,
    ).join(''),
  ),
);

describe('pooled arenas', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let directory: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tapedeck-arenas-'));
    upstream = await startUpstream(({ url }) => {
      const stream = Number(new URL(url, 'http://x').searchParams.get('stream'));
      return { chunks: splitEvery(streams[stream]!, 997 + stream * 613), delayMs: 0 };
    });
  });
  afterAll(async () => {
    await upstream.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('concurrent streams flushed many times through reused arenas each keep exactly their bytes', async () => {
    const store = createSqliteStore({ path: join(directory, 'tapes.sqlite') });
    const errors: unknown[] = [];
    // Flushing every few milliseconds sends many segments per stream, so arenas go back to the
    // pool and are handed to other streams while all of them are still recording.
    const recorder = createRecorder({
      store,
      flushIntervalMs: 2,
      onError: (error) => errors.push(error),
    });
    const init = { method: 'POST', headers: { accept: 'text/event-stream' }, body: '{}' };
    const received = await Promise.all(
      streams.map(async (_, stream) =>
        concatBytes(
          await readChunks(
            (await recorder.fetch(`${upstream.url}/v1/stream?stream=${stream}&end`, init)).body,
          ),
        ),
      ),
    );
    await recorder.close();
    let eventTotal = 0;
    for (const [stream, bytes] of streams.entries()) {
      expectSameBytes(received[stream]!, bytes);
      const { tapes } = await store.list({ urlContains: `stream=${stream}&` });
      expect(tapes).toHaveLength(1);
      const tape = await store.get(tapes[0]!.spanId);
      expectSameBytes(tape!.raw, bytes);
      const events: Array<{ data: string; type: string; byteStart: number; byteEnd: number }> = [];
      const parser = createParser({
        onEvent: ({ data, type, byteStart, byteEnd }) =>
          events.push({ data, type, byteStart, byteEnd }),
      });
      parser.feed(bytes);
      parser.end();
      eventTotal += events.length;
      expect(
        tape!.events.map(({ data, type, byteStart, byteEnd }) => ({
          data,
          type,
          byteStart,
          byteEnd,
        })),
      ).toEqual(events);
    }
    // What the writer thread found in segments of many blocks, counted once each.
    expect(recorder.stats().events).toBe(eventTotal);
    expect(errors).toEqual([]);
    await store.close();
  });

  it('with the SQLite store, bytes count against maxBufferedBytes only until written', async () => {
    const store = createSqliteStore({ path: join(directory, 'budget-returned.sqlite') });
    const errors: unknown[] = [];
    // Room for any one stream, not for two: a stream recorded after the others have been
    // written finds the whole budget again.
    const recorder = createRecorder({
      store,
      maxBufferedBytes: Math.max(...streams.map((bytes) => bytes.byteLength)),
      onError: (error) => errors.push(error),
    });
    const init = { method: 'POST', headers: { accept: 'text/event-stream' }, body: '{}' };
    for (const stream of [3, 4, 5]) {
      const response = await recorder.fetch(
        `${upstream.url}/v1/stream?stream=${stream}&returned`,
        init,
      );
      expectSameBytes(concatBytes(await readChunks(response.body)), streams[stream]!);
      await recorder.flush();
    }
    await recorder.close();
    for (const stream of [3, 4, 5]) {
      const { tapes } = await store.list({ urlContains: `stream=${stream}&returned` });
      expect(tapes.map((tape) => tape.outcome)).toEqual(['complete']);
      expectSameBytes((await store.get(tapes[0]!.spanId))!.raw, streams[stream]!);
    }
    expect(errors).toEqual([]);
    expect(recorder.stats()).toMatchObject({ dropped: 0, recorded: 3 });
    await store.close();
  });

  it('with the SQLite store, maxBufferedBytes stops the tapes, never the streams', async () => {
    const store = createSqliteStore({ path: join(directory, 'budget.sqlite') });
    const errors: Array<{ code: string; message: string }> = [];
    // A budget smaller than any chunk: every tape stops at its first chunk.
    const recorder = createRecorder({
      store,
      maxBufferedBytes: 1,
      onError: (error) => errors.push(error),
    });
    const init = { method: 'POST', headers: { accept: 'text/event-stream' }, body: '{}' };
    const received = await Promise.all(
      [0, 1, 2].map(async (stream) =>
        concatBytes(
          await readChunks(
            (await recorder.fetch(`${upstream.url}/v1/stream?stream=${stream}&budget`, init)).body,
          ),
        ),
      ),
    );
    await recorder.close();
    for (const stream of [0, 1, 2]) expectSameBytes(received[stream]!, streams[stream]!);
    const { tapes } = await store.list({ urlContains: 'budget' });
    expect(tapes.map((tape) => [tape.outcome, tape.byteLength])).toEqual([
      ['incomplete', 0],
      ['incomplete', 0],
      ['incomplete', 0],
    ]);
    expect(errors.map((error) => error.code)).toEqual([
      'RECORDER_FAILURE',
      'RECORDER_FAILURE',
      'RECORDER_FAILURE',
    ]);
    expect(recorder.stats()).toMatchObject({ dropped: 3, recorded: 3 });
    await store.close();
  });
});

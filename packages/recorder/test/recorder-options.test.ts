import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { spanIdSchema, TapedeckError, traceIdSchema } from '@tapedeck/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore, createRecorder } from '../src/index.js';
import { concatBytes, expectSameBytes, readChunks, splitAt, startUpstream } from './upstream.js';

const opperBytes = new Uint8Array(readFileSync('/work/shared/formats/samples/opper-text.sse'));
const init = {
  method: 'POST',
  headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
  body: '{"name":"capital","model":"opper/fast"}',
};

describe('recorder options', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;

  beforeAll(async () => {
    upstream = await startUpstream(({ url }) =>
      url.includes('gzip')
        ? { headers: { 'content-encoding': 'gzip' }, chunks: [gzipSync(opperBytes)] }
        : { chunks: splitAt(opperBytes, [50, 120, 200]) },
    );
  });
  afterAll(() => upstream.close());

  const readAll = async (response: Response) => concatBytes(await readChunks(response.body));

  it('filter and sampleRate leave requests unrecorded (and counted) without touching them', async () => {
    const store = createMemoryStore();
    const filtered = createRecorder({ store, filter: (request) => !request.url.includes('skip') });
    expectSameBytes(
      await readAll(await filtered.fetch(`${upstream.url}/v2/call/stream?skip`, init)),
      opperBytes,
    );
    expectSameBytes(
      await readAll(await filtered.fetch(`${upstream.url}/v2/call/stream?keep`, init)),
      opperBytes,
    );
    await filtered.close();
    expect((await store.list()).tapes.map((tape) => tape.request.url)).toEqual([
      `${upstream.url}/v2/call/stream?keep`,
    ]);
    expect(filtered.stats()).toMatchObject({ skipped: 1, recorded: 1 });

    const dice = [0.2, 0.7];
    const sampled = createRecorder({
      store,
      sampleRate: 0.5,
      _internal: { random: () => dice.shift() ?? 0 },
    });
    await readAll(await sampled.fetch(`${upstream.url}/v2/call/stream?sample-in`, init));
    await readAll(await sampled.fetch(`${upstream.url}/v2/call/stream?sample-out`, init));
    await sampled.close();
    expect(sampled.stats()).toMatchObject({ skipped: 1, recorded: 1 });
    expect(
      (await store.list({ urlContains: 'sample-' })).tapes.map((tape) => tape.request.url),
    ).toEqual([`${upstream.url}/v2/call/stream?sample-in`]);
  });

  it('beforePersist sees the redacted head and may change it or drop the tape', async () => {
    const store = createMemoryStore();
    const seen: string[] = [];
    const recorder = createRecorder({
      store,
      beforePersist: (head) => {
        seen.push(head.request.headers.authorization ?? '');
        if (head.request.url.includes('drop')) return false;
        return { ...head, tags: { suite: 'options' } };
      },
    });
    const withKey = { ...init, headers: { ...init.headers, authorization: 'Bearer sk-hidden' } };
    await readAll(await recorder.fetch(`${upstream.url}/v2/call/stream?drop`, withKey));
    await readAll(await recorder.fetch(`${upstream.url}/v2/call/stream?tag`, withKey));
    await recorder.close();
    expect(seen).toEqual(['[REDACTED]', '[REDACTED]']);
    const { tapes } = await store.list();
    expect(tapes).toHaveLength(1);
    expect(tapes[0]).toMatchObject({
      tags: { suite: 'options' },
      model: 'opper/fast',
      family: 'opper',
    });
  });

  it('maxTapeBytes caps the tape, not the stream, and says so through onError', async () => {
    const store = createMemoryStore();
    const errors: TapedeckError[] = [];
    const recorder = createRecorder({
      store,
      maxTapeBytes: 100,
      onError: (error) => errors.push(error),
    });
    expectSameBytes(
      await readAll(await recorder.fetch(`${upstream.url}/v2/call/stream?cap`, init)),
      opperBytes,
    );
    await recorder.close();
    const [summary] = (await store.list()).tapes;
    const tape = await store.get(summary!.spanId);
    expectSameBytes(tape!.raw, opperBytes.subarray(0, 100));
    expect(tape).toMatchObject({ outcome: 'complete', error: 'truncated at maxTapeBytes (100)' });
    expect(tape?.events.every((event) => event.byteEnd <= 100)).toBe(true);
    expect(errors.map((error) => [error.code, error.context.tapeId])).toEqual([
      ['RECORDER_FAILURE', tape?.spanId],
    ]);
  });

  it('maxBufferedBytes stops a tape (not the stream) once the store is that far behind, and counts it', async () => {
    const store = createMemoryStore();
    const errors: TapedeckError[] = [];
    // No flush timer: nothing is written while the stream runs, so every recorded byte is held.
    const recorder = createRecorder({
      store,
      maxBufferedBytes: 150,
      onError: (error) => errors.push(error),
      _internal: { setInterval: () => ({ stop() {} }) },
    });
    expectSameBytes(
      await readAll(await recorder.fetch(`${upstream.url}/v2/call/stream?budget`, init)),
      opperBytes,
    );
    await recorder.close();
    const [summary] = (await store.list()).tapes;
    const tape = await store.get(summary!.spanId);
    const kept = tape!.raw.byteLength;
    expect(kept).toBeLessThanOrEqual(150);
    expectSameBytes(tape!.raw, opperBytes.subarray(0, kept));
    expect(tape).toMatchObject({
      outcome: 'incomplete',
      error: `recording stopped at byte ${kept}: the recorder held more than maxBufferedBytes (150) not yet written`,
    });
    expect(errors.map((error) => [error.code, error.context.tapeId])).toEqual([
      ['RECORDER_FAILURE', tape?.spanId],
    ]);
    expect(recorder.stats()).toMatchObject({ dropped: 1, byOutcome: { incomplete: 1 } });
  });

  it('without an active span, tapes get fresh W3C-valid ids', async () => {
    const store = createMemoryStore();
    const recorder = createRecorder({ store });
    for (let i = 0; i < 3; i++)
      await readAll(await recorder.fetch(`${upstream.url}/v2/call/stream?ids`, init));
    await recorder.close();
    const { tapes } = await store.list();
    expect(new Set(tapes.map((tape) => tape.spanId)).size).toBe(3);
    for (const tape of tapes) {
      expect(spanIdSchema.safeParse(tape.spanId).success).toBe(true);
      expect(traceIdSchema.safeParse(tape.traceId).success).toBe(true);
    }
  });

  it('under install(), a gzip-encoded stream reaches the consumer decoded once, as without the recorder', async () => {
    const store = createMemoryStore();
    const plain = await readAll(await fetch(`${upstream.url}/v2/call/stream?gzip`, init));
    expectSameBytes(plain, opperBytes);
    const recorder = createRecorder({ store });
    recorder.install();
    try {
      expectSameBytes(
        await readAll(await fetch(`${upstream.url}/v2/call/stream?gzip`, init)),
        opperBytes,
      );
    } finally {
      recorder.uninstall();
    }
    await recorder.close();
    const [summary] = (await store.list()).tapes;
    const tape = await store.get(summary!.spanId);
    expectSameBytes(tape!.raw, opperBytes);
    expect(tape?.events).toHaveLength(8);
  });

  it('rejects a missing store with a clear INVALID_ARGUMENT error', () => {
    let error: unknown;
    try {
      createRecorder({} as Parameters<typeof createRecorder>[0]);
    } catch (cause) {
      error = cause;
    }
    expect(TapedeckError.hasCode(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(String(error)).toMatch(/\[tapedeck\] createRecorder: `store`/);
  });
});

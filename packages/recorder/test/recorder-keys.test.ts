import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARENA_BYTES } from '../src/arena-pool.js';
import { createMemoryStore, createRecorder, createSqliteStore } from '../src/index.js';
import { concatBytes, expectSameBytes, readChunks, splitEvery, startUpstream } from './upstream.js';

const encoder = new TextEncoder();
const sample = readFileSync('/work/shared/formats/samples/openresponses-text.sse');
// Fifteen 1 KB events that name no key come first: the event naming the response lies past the
// key parser's first pieces of a chunk.
const stream = concatBytes([
  encoder.encode(
    Array.from(
      { length: 15 },
      (_, index) =>
        `event: ping\ndata: {"type":"ping","index":${index},"pad":"${'x'.repeat(1020)}"}\n\n`,
    ).join(''),
  ),
  new Uint8Array(sample),
]);

describe('keys learnt from the leading events', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let directory: string;
  /** A SQLite store (its writer thread frames the events) and a memory store (this thread does). */
  const bothStores = (file: string) =>
    [
      ['sqlite', createSqliteStore({ path: join(directory, file) })],
      ['memory', createMemoryStore()],
    ] as const;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tapedeck-keys-'));
    upstream = await startUpstream(({ url }) => ({
      chunks: url.includes('whole') ? [stream] : splitEvery(stream, 7),
      delayMs: 0,
    }));
  });
  afterAll(async () => {
    await upstream.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('are the same whether the stream arrives as one chunk or in 7-byte pieces', async () => {
    const store = createSqliteStore({ path: join(directory, 'keys.sqlite') });
    const errors: unknown[] = [];
    const recorder = createRecorder({ store, onError: (error) => errors.push(error) });
    const init = { method: 'POST', headers: { accept: 'text/event-stream' }, body: '{}' };
    for (const how of ['whole', 'pieces']) {
      const response = await recorder.fetch(`${upstream.url}/responses?${how}`, init);
      expectSameBytes(concatBytes(await readChunks(response.body)), stream);
    }
    await recorder.close();
    const tapes = await Promise.all(
      ['whole', 'pieces'].map(async (how) => {
        const { tapes } = await store.list({ urlContains: how });
        return store.get(tapes[0]!.spanId);
      }),
    );
    for (const tape of tapes) {
      expect(tape).toMatchObject({ family: 'openresponses', responseId: 'resp_01JD8Z3K4Q' });
      expectSameBytes(tape!.raw, stream);
    }
    expect(tapes[0]!.events).toEqual(
      tapes[1]!.events.map((event, index) => ({
        ...event,
        offsetMs: tapes[0]!.events[index]!.offsetMs,
      })),
    );
    expect(errors).toEqual([]);
    await store.close();
  });

  it('are found in a first chunk that runs across arenas', async () => {
    // One chunk of ~300 KB, as a fast upstream or a proxy may deliver it: the only event that
    // names the response crosses the end of the recorder's first arena, and what follows names
    // nothing; the tape must keep the bytes whole and the key.
    const ping = (index: number, pad = 20_000) =>
      `event: ping\ndata: {"type":"ping","index":${index},"pad":"${'x'.repeat(pad)}"}\n\n`;
    // The sample's own response.created, with an id no other event has.
    const created = `${new TextDecoder()
      .decode(sample)
      .split('\n\n')
      .find((block) => block.startsWith('event: response.created'))!
      .replace('resp_01JD8Z3K4Q', 'resp_across_arenas')}\n\n`;
    // Pings (fewer than the 16 leading events read for keys), the last padded so that the
    // created event starts 100 bytes before the end of the first arena.
    let pings = '';
    while (pings.length + 2 * ping(0).length < ARENA_BYTES) pings += ping(pings.length);
    const head = pings + ping(0, ARENA_BYTES - 100 - pings.length - ping(0, 0).length);
    const text = head + created + Array.from({ length: 40 }, (_, index) => ping(index)).join('');
    const bytes = encoder.encode(text);
    expect(head.length).toBeLessThan(ARENA_BYTES);
    expect(head.length + created.length).toBeGreaterThan(ARENA_BYTES);
    expect(head.split('event: ping').length - 1).toBeLessThan(16);
    const store = createSqliteStore({ path: join(directory, 'arenas.sqlite') });
    const errors: unknown[] = [];
    const recorder = createRecorder({ store, onError: (error) => errors.push(error) });
    const oneChunk: typeof fetch = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(bytes.slice());
            controller.close();
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    const response = await recorder.wrap(oneChunk)('https://openrouter.ai/api/v1/responses', {
      method: 'POST',
      body: '{"stream":true}',
    });
    expectSameBytes(concatBytes(await readChunks(response.body)), bytes);
    await recorder.close();
    const tape = await store.get('resp_across_arenas');
    expect(tape).toMatchObject({ family: 'openresponses', responseId: 'resp_across_arenas' });
    expectSameBytes(tape!.raw, bytes);
    expect(errors).toEqual([]);
    await store.close();
  });

  it("decide the tape's family when the request does not say it", async () => {
    // A URL and body that name no family: the events, OpenResponses', decide it, also after the
    // tape's head was written (the SQLite store is told once its writer has framed them).
    for (const [name, store] of bothStores('family.sqlite')) {
      const recorder = createRecorder({ store });
      const response = await recorder.fetch(`${upstream.url}/gateway/${name}?whole`, {
        method: 'POST',
        headers: { accept: 'text/event-stream' },
        body: '{}',
      });
      expectSameBytes(concatBytes(await readChunks(response.body)), stream);
      await recorder.close();
      const [summary] = (await store.list({ urlContains: `/gateway/${name}` })).tapes;
      expect(summary).toMatchObject({ family: 'openresponses' });
      expect(await store.get(summary!.spanId)).toMatchObject({
        family: 'openresponses',
        responseId: 'resp_01JD8Z3K4Q',
        model: 'openai/gpt-4o-mini',
      });
      await store.close?.();
    }
  });

  it('are recorded while the stream is still open', async () => {
    // The request names no family; the first events do, and the store hears of it (and of the
    // response id) before the stream ends.
    const store = createSqliteStore({ path: join(directory, 'open.sqlite') });
    const recorder = createRecorder({ store });
    let upstreamBody!: ReadableStreamDefaultController<Uint8Array>;
    const held: typeof fetch = async () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            upstreamBody = controller;
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    const response = await recorder.wrap(held)('https://gateway.example/stream', {
      method: 'POST',
      body: '{}',
    });
    const reader = response.body!.getReader();
    upstreamBody.enqueue(new Uint8Array(sample));
    expectSameBytes((await reader.read()).value!, new Uint8Array(sample));
    await recorder.flush();
    const [summary] = (await store.list()).tapes;
    expect(summary).toMatchObject({ family: 'openresponses', outcome: 'recording' });
    expect(await store.get(summary!.spanId)).toMatchObject({ responseId: 'resp_01JD8Z3K4Q' });
    upstreamBody.close();
    expect((await reader.read()).done).toBe(true);
    await recorder.close();
    expect(await store.get('resp_01JD8Z3K4Q')).toMatchObject({
      family: 'openresponses',
      outcome: 'complete',
    });
    await store.close();
  });

  it('are learnt from a last event that only the end of the stream dispatches', async () => {
    // A blank line ending in CR as the very last byte: the parser dispatches that event only
    // once it knows no LF follows, at the end.
    for (const [name, store] of bothStores('last-event.sqlite')) {
      const recorder = createRecorder({ store });
      const bytes = encoder.encode(`data: {"span_id":"sp_at_end_${name}","delta":"hi"}\r\r`);
      const oneChunk: typeof fetch = async () =>
        new Response(bytes.slice(), { headers: { 'content-type': 'text/event-stream' } });
      const response = await recorder.wrap(oneChunk)('https://api.opper.ai/v2/call/stream', {
        method: 'POST',
        body: '{"name":"n"}',
      });
      expectSameBytes(concatBytes(await readChunks(response.body)), bytes);
      await recorder.close();
      expect(await store.get(`sp_at_end_${name}`)).toMatchObject({
        family: 'opper',
        upstreamSpanId: `sp_at_end_${name}`,
      });
      await store.close?.();
    }
  });
});

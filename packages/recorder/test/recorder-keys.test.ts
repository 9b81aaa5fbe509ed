import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecorder, createSqliteStore } from '../src/index.js';
import { concatBytes, expectSameBytes, readChunks, splitEvery, startUpstream } from './upstream.js';

const encoder = new TextEncoder();
const sample = readFileSync('/work/shared/formats/samples/openresponses-text.sse');
// Nine 1 KB events that name no key come first: the event naming the response lies past the
// key parser's first pieces of a chunk.
const stream = concatBytes([
  encoder.encode(
    Array.from(
      { length: 9 },
      (_, index) =>
        `event: ping\ndata: {"type":"ping","index":${index},"pad":"${'x'.repeat(1000)}"}\n\n`,
    ).join(''),
  ),
  new Uint8Array(sample),
]);

describe('keys learnt from the leading events', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let directory: string;

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
});

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParser } from '@tapedeck/sse';
import type { TapeStore } from '@tapedeck/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecorder, createSqliteStore } from '../src/index.js';
import {
  concatBytes,
  expectSameBytes,
  type Reply,
  readChunks,
  splitAt,
  splitEvery,
  startUpstream,
} from './upstream.js';

const samplesDirectory = '/work/shared/formats/samples';
const fixturesDirectory = new URL('./__fixtures__/', import.meta.url);

function parseAll(raw: Uint8Array) {
  const events: Array<{
    data: string;
    type: string;
    id: string;
    byteStart: number;
    byteEnd: number;
  }> = [];
  const parser = createParser({
    onEvent: ({ data, type, id, byteStart, byteEnd }) =>
      events.push({ data, type, id, byteStart, byteEnd }),
  });
  parser.feed(raw);
  parser.end();
  return events;
}

const cases = new Map<string, Reply>();
const emoji = new Uint8Array(readFileSync(new URL('emoji.sse', fixturesDirectory)));
const emojiStart = Buffer.from(emoji).indexOf(Buffer.from('😀'));
// Five megabytes of chat-completions chunks, written in 64 KiB pieces.
const big = new TextEncoder().encode(
  Array.from(
    { length: 26_000 },
    (_, index) =>
      `data: {"id":"gen-big","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"token ${index} ${'x'.repeat(120)}"}}]}\n\n`,
  ).join(''),
);

for (const name of readdirSync(samplesDirectory)) {
  const bytes = new Uint8Array(readFileSync(join(samplesDirectory, name)));
  cases.set(name, { chunks: splitAt(bytes, [7, 100, 101, Math.floor(bytes.byteLength / 2)]) });
}
for (const name of ['crlf.sse', 'cr-only.sse', 'comments.sse', 'done.sse']) {
  const bytes = new Uint8Array(readFileSync(new URL(name, fixturesDirectory)));
  // Split every few bytes so CR/LF pairs and fields straddle chunks.
  cases.set(name, { chunks: splitEvery(bytes, 5) });
}
// The 4-byte emoji arrives split 1 + 3 bytes, then 2 + 2.
cases.set('emoji.sse', {
  chunks: splitAt(emoji, [emojiStart + 1, emojiStart + 2, emojiStart + 4]),
});
cases.set('five-megabytes.sse', { chunks: splitEvery(big, 64 * 1024), delayMs: 0 });

describe('byte-exact recording through a real upstream', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let directory: string;
  let store: TapeStore;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tapedeck-bytes-'));
    store = createSqliteStore({ path: join(directory, 'tapes.sqlite') });
    upstream = await startUpstream(({ url }) => {
      const name = new URL(url, 'http://x').searchParams.get('case') ?? '';
      const reply = cases.get(name);
      if (!reply) throw new Error(`no case ${name}`);
      return reply;
    });
  });
  afterAll(async () => {
    await upstream.close();
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  for (const [name, reply] of cases) {
    it(`${name}: the consumer and the tape get exactly the upstream bytes`, async () => {
      const expected = concatBytes(reply.chunks.map((chunk) => new Uint8Array(Buffer.from(chunk))));
      const errors: unknown[] = [];
      const recorder = createRecorder({ store, onError: (error) => errors.push(error) });
      const url = `${upstream.url}/v1/stream?case=${encodeURIComponent(name)}`;
      const init = {
        method: 'POST',
        headers: { accept: 'text/event-stream' },
        body: '{"stream":true}',
      };

      const plain = concatBytes(await readChunks((await fetch(url, init)).body));
      const response = await recorder.fetch(url, init);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const consumerChunks = await readChunks(response.body);
      await recorder.close();

      expectSameBytes(plain, expected);
      expectSameBytes(concatBytes(consumerChunks), expected);
      const { tapes } = await store.list({ urlContains: `case=${encodeURIComponent(name)}` });
      expect(tapes).toHaveLength(1);
      const tape = await store.get(tapes[0]!.spanId);
      expect(tape?.outcome).toBe('complete');
      expectSameBytes(tape!.raw, expected);
      // Chunk for chunk: the tape's chunks are the ones the consumer was handed.
      expect(tape?.chunks.map((chunk) => chunk.byteLength)).toEqual(
        consumerChunks.map((chunk) => chunk.byteLength),
      );
      const offsets = tape!.chunks.map((chunk) => chunk.offsetMs);
      expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
      // Every event is stored with its exact byte range and the data parsed from those bytes.
      const parsed = parseAll(expected);
      expect(
        tape?.events.map(({ data, type, id, byteStart, byteEnd }) => ({
          data,
          type,
          id,
          byteStart,
          byteEnd,
        })),
      ).toEqual(parsed);
      expect(tape?.eventCount).toBe(parsed.length);
      expect(errors).toEqual([]);
    });
  }
});

import { createMemoryStore, createRecorder } from '@tapedeck/recorder';
import type { StreamFamily } from '@tapedeck/types';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplayHandlers } from '../src/index.js';
import type { ReplayChunking } from '../src/types.js';
import { readFixture, startUpstream } from './helpers.js';
import { type ClientKind, consume } from './sdk-clients.js';

const cases: Array<{ kind: ClientKind; fixture: string; family: StreamFamily }> = [
  { kind: 'opper', fixture: 'opper-text.sse', family: 'opper' },
  { kind: 'opper', fixture: 'opper-json.sse', family: 'opper' },
  { kind: 'opper', fixture: 'opper-error.sse', family: 'opper' },
  { kind: 'openrouter-responses', fixture: 'openresponses-text.sse', family: 'openresponses' },
  {
    kind: 'openrouter-responses',
    fixture: 'openresponses-function-call.sse',
    family: 'openresponses',
  },
  { kind: 'openrouter-responses', fixture: 'openresponses-reasoning.sse', family: 'openresponses' },
  { kind: 'openrouter-responses', fixture: 'openresponses-error.sse', family: 'openresponses' },
  { kind: 'openrouter-chat', fixture: 'openrouter-chat.sse', family: 'chat-completions' },
  { kind: 'openai-responses', fixture: 'openresponses-text.sse', family: 'openresponses' },
  { kind: 'openai-responses', fixture: 'openresponses-function-call.sse', family: 'openresponses' },
  { kind: 'openai-responses', fixture: 'openresponses-incomplete.sse', family: 'openresponses' },
];

const chunkings: ReplayChunking[] = ['recorded', 'event', { split: 'random', seed: 20261121 }];

// Odd sizes so live chunk boundaries fall mid-line and mid-event.
const liveChunkBytes = [7, 120, 33, 1, 250, 64, 9, 400, 3];

let upstream: Awaited<ReturnType<typeof startUpstream>>;
let currentFixture = 'opper-text.sse';
let upstreamRequests = 0;

beforeAll(async () => {
  upstream = await startUpstream(() => {
    upstreamRequests += 1;
    return { raw: readFixture(currentFixture), chunkBytes: liveChunkBytes };
  });
});
afterAll(() => upstream.close());

/** Consumes the live upstream with the real client, recorded by @tapedeck/recorder. */
async function captureLive(kind: ClientKind) {
  const store = createMemoryStore();
  const recorder = createRecorder({
    store,
    onError: (error) => {
      throw error;
    },
  });
  const realFetch = globalThis.fetch;
  // The SDKs call the global fetch; route it through the recorder for the live run only.
  globalThis.fetch = recorder.wrap(realFetch);
  try {
    const live = await consume(kind, upstream.origin);
    await recorder.flush();
    return { live, store };
  } finally {
    globalThis.fetch = realFetch;
    await recorder.close();
  }
}

describe.each(cases)('$kind on $fixture', ({ kind, fixture, family }) => {
  it('yields deep-equal events live and replayed, in every chunking mode', async () => {
    currentFixture = fixture;
    const { live, store } = await captureLive(kind);
    expect(live.events.length).toBeGreaterThan(0);
    const { tapes } = await store.list();
    expect(tapes).toHaveLength(1);
    const tape = (await store.get(tapes[0]!.spanId))!;
    expect(tape.family).toBe(family);
    expect(tape.raw).toEqual(readFixture(fixture));
    // Real network chunk boundaries, which the 'recorded' mode must reproduce.
    expect(tape.chunks.length).toBeGreaterThan(1);
    for (const chunking of chunkings) {
      const before = upstreamRequests;
      const server = setupServer(...createReplayHandlers({ store, chunking }));
      server.listen({ onUnhandledRequest: 'error' });
      try {
        const replayed = await consume(kind, upstream.origin);
        expect(replayed, JSON.stringify(chunking)).toEqual(live);
      } finally {
        server.close();
      }
      // The replay never reached the upstream.
      expect(upstreamRequests).toBe(before);
    }
  });
});

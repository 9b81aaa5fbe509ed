import type { StreamFamily } from '@tapedeck/types';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplayHandlers } from '../src/index.js';
import type { ReplayChunking } from '../src/types.js';
import { buildTape, concat, createArrayStore, readFixture, startUpstream } from './helpers.js';
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

/** Consumes the live upstream with the real client while recording what crossed the wire. */
async function captureLive(kind: ClientKind, family: StreamFamily) {
  const realFetch = globalThis.fetch;
  const sizes: number[] = [];
  const offsetsMs: number[] = [];
  const parts: Uint8Array[] = [];
  let request: { method: string; url: string; body: string | null } | undefined;
  globalThis.fetch = async (input, init) => {
    const probe = new Request(input, init);
    request = { method: probe.method, url: probe.url, body: await probe.clone().text() };
    const startedMs = performance.now();
    const response = await realFetch(probe);
    const recorder = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sizes.push(chunk.length);
        offsetsMs.push(performance.now() - startedMs);
        parts.push(chunk.slice());
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body!.pipeThrough(recorder), {
      status: response.status,
      headers: response.headers,
    });
  };
  try {
    const live = await consume(kind, upstream.origin);
    const tape = buildTape({
      raw: concat(parts),
      family,
      url: request!.url,
      method: request!.method,
      body: request!.body,
      chunkBytes: sizes,
      offsetsMs,
    });
    return { live, tape };
  } finally {
    globalThis.fetch = realFetch;
  }
}

describe.each(cases)('$kind on $fixture', ({ kind, fixture, family }) => {
  it('yields deep-equal events live and replayed, in every chunking mode', async () => {
    currentFixture = fixture;
    const { live, tape } = await captureLive(kind, family);
    expect(live.events.length).toBeGreaterThan(0);
    expect(tape.chunks.length).toBeGreaterThan(1);
    const store = createArrayStore([tape]);
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

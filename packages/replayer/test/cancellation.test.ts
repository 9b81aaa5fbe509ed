import type { StreamFamily } from '@tapedeck/types';
import { setupServer } from 'msw/node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createReplayHandlers } from '../src/index.js';
import { buildTape, createArrayStore, parseEvents, readFixture } from './helpers.js';
import { type ClientKind, consume, requestFor } from './sdk-clients.js';

const origin = 'http://llm.test';
const HOUR_MS = 3_600_000;

/** A delay that records which timers are still pending, so tests can prove none are left. */
function createTrackedDelay() {
  const pending = new Set<symbol>();
  const delay = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const id = Symbol('timer');
      pending.add(id);
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve();
      }, ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          pending.delete(id);
          resolve();
        },
        { once: true },
      );
    });
  return { pending, delay };
}

/** One chunk per event; the first `quick` events at once, the rest an hour later. */
function slowTape(kind: ClientKind, fixture: string, family: StreamFamily, quick: number) {
  const raw = readFixture(fixture);
  const ends = parseEvents(raw).map((event) => event.byteEnd);
  const sizes = ends.map((end, index) => end - (ends[index - 1] ?? 0));
  const offsetsMs = sizes.map((_, index) => (index < quick ? 0 : HOUR_MS));
  const { url, body } = requestFor(kind, origin);
  return buildTape({ raw, family, url, body: JSON.stringify(body), chunkBytes: sizes, offsetsMs });
}

const clients: Array<{ kind: ClientKind; fixture: string; family: StreamFamily }> = [
  { kind: 'opper', fixture: 'opper-text.sse', family: 'opper' },
  { kind: 'openrouter-responses', fixture: 'openresponses-text.sse', family: 'openresponses' },
  { kind: 'openrouter-chat', fixture: 'openrouter-chat.sse', family: 'chat-completions' },
  { kind: 'openai-responses', fixture: 'openresponses-text.sse', family: 'openresponses' },
];

let server: ReturnType<typeof setupServer> | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

function listen(
  tapes: ReturnType<typeof slowTape>[],
  delay: ReturnType<typeof createTrackedDelay>['delay'],
) {
  server = setupServer(
    ...createReplayHandlers({
      store: createArrayStore(tapes),
      timing: 'recorded',
      _internal: { delay },
    }),
  );
  server.listen({ onUnhandledRequest: 'error' });
}

describe.each(clients)('cancellation with $kind', ({ kind, fixture, family }) => {
  it('a break out of the loop ends the replay and clears its timer', {
    timeout: 1000,
  }, async () => {
    const tracked = createTrackedDelay();
    listen([slowTape(kind, fixture, family, 3)], tracked.delay);
    const result = await consume(kind, origin, { stopAfter: 2 });
    expect(result.error).toBeUndefined();
    expect(result.events).toHaveLength(2);
    await vi.waitFor(() => expect(tracked.pending.size).toBe(0));
  });

  it('AbortController.abort() ends the replay with an abort error', { timeout: 1000 }, async () => {
    const tracked = createTrackedDelay();
    listen([slowTape(kind, fixture, family, 3)], tracked.delay);
    const controller = new AbortController();
    const consuming = consume(kind, origin, { signal: controller.signal });
    // The replay is now waiting an hour for the next chunk.
    await vi.waitFor(() => expect(tracked.pending.size).toBe(1));
    controller.abort();
    const result = await consuming;
    if (kind === 'openai-responses') {
      // openai's Stream swallows an AbortError and just ends the loop, as it does live.
      expect(result.error).toBeUndefined();
    } else {
      expect(result.error).toMatchObject({
        name: 'DOMException',
        message: expect.stringMatching(/abort/i),
      });
    }
    expect(result.events).toHaveLength(3);
    expect(tracked.pending.size).toBe(0);
  });
});

it('@openrouter/sdk cancelling the body on [DONE] does not wait for what follows', {
  timeout: 1000,
}, async () => {
  const tracked = createTrackedDelay();
  const { url, body } = requestFor('openrouter-chat', origin);
  const chat = new TextDecoder().decode(readFixture('openrouter-chat.sse'));
  // A keep-alive an hour after [DONE]: a client that waited for the end would hang.
  const raw = new TextEncoder().encode(`${chat}: OPENROUTER PROCESSING\n\n`);
  const tape = buildTape({
    raw,
    family: 'chat-completions',
    url,
    body: JSON.stringify(body),
    chunkBytes: [chat.length],
    offsetsMs: [0, HOUR_MS],
  });
  listen([tape], tracked.delay);
  const result = await consume('openrouter-chat', origin);
  expect(result.error).toBeUndefined();
  expect(result.events).toHaveLength(3);
  await vi.waitFor(() => expect(tracked.pending.size).toBe(0));
});

import { setupServer } from 'msw/node';
import { afterEach, expect, it, vi } from 'vitest';
import { createReplayHandlers } from '../src/index.js';
import { buildTape, createArrayStore } from './helpers.js';

const EVENTS = 200;
const GAP_MS = 3;
const url = 'http://llm.test/v2/call/stream';

function opperTape() {
  const parts: string[] = [];
  for (let index = 0; index < EVENTS; index += 1) {
    parts.push(`data: {"delta":"token ${index}","chunk_type":"text"}\n\n`);
  }
  const raw = new TextEncoder().encode(parts.join(''));
  return buildTape({
    raw,
    family: 'opper',
    url,
    body: '{}',
    chunkBytes: parts.map((part) => part.length),
    gapMs: GAP_MS,
  });
}

let server: ReturnType<typeof setupServer> | undefined;
afterEach(() => server?.close());

/** p99 of absolute values. */
function p99(values: number[]): number {
  const sorted = values.map(Math.abs).sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.99) - 1]!;
}

/** Arrival of each chunk at the client relative to the first, minus the tape's, in ms. */
async function measureReplayErrorsMs(tape: ReturnType<typeof opperTape>): Promise<number[]> {
  const response = await fetch(url, { method: 'POST', body: '{}' });
  const reader = response.body!.getReader();
  const arrivals: number[] = [];
  for (;;) {
    const { done } = await reader.read();
    if (done) break;
    arrivals.push(performance.now());
  }
  expect(arrivals).toHaveLength(tape.chunks.length);
  return arrivals.map(
    (arrival, index) =>
      arrival - arrivals[0]! - (tape.chunks[index]!.offsetMs - tape.chunks[0]!.offsetMs),
  );
}

/**
 * The anchor: bare setTimeout waits to the same absolute offsets, run at the same time in the
 * same event loop, so whatever the machine's load does to timers it does to both.
 */
async function measureTimerErrorsMs(offsetsMs: number[]): Promise<number[]> {
  const startMs = performance.now();
  const errors: number[] = [];
  for (const offsetMs of offsetsMs) {
    const waitMs = startMs + offsetMs - offsetsMs[0]! - performance.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    errors.push(performance.now() - startMs - (offsetMs - offsetsMs[0]!));
  }
  return errors;
}

it("timing 'recorded' keeps a 200-event tape within 5 ms of its offsets (p99, real clock)", async () => {
  const tape = opperTape();
  server = setupServer(
    ...createReplayHandlers({ store: createArrayStore([tape]), timing: 'recorded' }),
  );
  server.listen({ onUnhandledRequest: 'error' });
  const offsetsMs = tape.chunks.map((chunk) => chunk.offsetMs);
  const [replay, timers] = await Promise.all([
    measureReplayErrorsMs(tape),
    measureTimerErrorsMs(offsetsMs),
  ]);
  // Measured against the platform's own timers: this machine is shared, and a neighbour's load
  // delays every timer alike. What is left is the replayer's own error.
  expect(p99(replay)).toBeLessThanOrEqual(p99(timers) + 5);
  // Lateness never accumulates: the last chunk is as punctual as the typical one.
  expect(Math.abs(replay.at(-1)!)).toBeLessThanOrEqual(p99(timers) + 5);
});

it('under vi.useFakeTimers(), advancing the clock releases exactly the events due, through MSW', async () => {
  vi.useFakeTimers();
  try {
    const tape = opperTape();
    server = setupServer(
      ...createReplayHandlers({ store: createArrayStore([tape]), timing: 'recorded' }),
    );
    server.listen({ onUnhandledRequest: 'error' });
    const response = await fetch(url, { method: 'POST', body: '{}' });
    const received: Uint8Array[] = [];
    const reading = (async () => {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        received.push(chunk);
      }
    })();
    // The clock starts at the first read; chunk i is due at its recorded offset, (i + 1) * 3 ms.
    await vi.advanceTimersByTimeAsync(GAP_MS * 10 + 1);
    expect(received).toHaveLength(10);
    await vi.advanceTimersByTimeAsync(GAP_MS * 50);
    expect(received).toHaveLength(60);
    await vi.runAllTimersAsync();
    await reading;
    expect(received).toHaveLength(EVENTS);
  } finally {
    vi.useRealTimers();
  }
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildTape, concat, readChunks, readFixture } from '../test/helpers.js';
import { chunkBoundaries, planReplay } from './plan.js';
import { createReplayStream } from './replay-stream.js';
import type { ReplayChunking } from './types.js';

const raw = readFixture('crlf-multibyte.sse');
const tape = buildTape({
  raw,
  family: 'opper',
  url: 'http://api.test/v2/call/stream',
  chunkBytes: [5, 40, 3, 60],
  gapMs: 10,
});

const chunkings: ReplayChunking[] = [
  'recorded',
  'event',
  { split: 'random', seed: 1 },
  { split: 'random', seed: 99, maxChunkBytes: 4 },
];

describe('createReplayStream', () => {
  it.each(chunkings)('replays the exact tape bytes with chunking %j', async (chunking) => {
    const chunks = await readChunks(createReplayStream({ tape, chunking }));
    expect(concat(chunks)).toEqual(tape.raw);
  });

  it('a cut errors the body like undici, after exactly the bytes before the cut', async () => {
    const reader = createReplayStream({
      tape,
      faults: [{ type: 'cut', afterBytes: 50 }],
    }).getReader();
    const received: Uint8Array[] = [];
    const error = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return undefined;
        received.push(value);
      }
    })().catch((caught: unknown) => caught);
    expect(concat(received)).toEqual(tape.raw.subarray(0, 50));
    expect(error).toMatchObject({ name: 'TypeError', message: 'terminated' });
    expect(String((error as Error).cause)).toContain(
      `[tapedeck] cut fault on tape ${tape.spanId} at byte 50`,
    );
  });

  it('keeps the recorded chunk boundaries by default', async () => {
    const chunks = await readChunks(createReplayStream({ tape }));
    expect(chunks.map((chunk) => chunk.length)).toEqual(tape.chunks.map((c) => c.byteLength));
  });

  it("sends one SSE event per chunk with chunking 'event'", async () => {
    const chunks = await readChunks(createReplayStream({ tape, chunking: 'event' }));
    expect(chunks).toHaveLength(tape.events.length);
    chunks.forEach((chunk, index) => {
      expect(new TextDecoder().decode(chunk).endsWith('\r\n\r\n')).toBe(true);
      const event = tape.events[index]!;
      expect(concat(chunks.slice(0, index + 1)).length).toBe(event.byteEnd);
    });
  });

  it('splits randomly but reproducibly, inside CRLF pairs and multi-byte characters', () => {
    const first = chunkBoundaries(tape, { split: 'random', seed: 7 });
    expect(chunkBoundaries(tape, { split: 'random', seed: 7 })).toEqual(first);
    expect(chunkBoundaries(tape, { split: 'random', seed: 8 })).not.toEqual(first);
    const insideCrlf = first.filter((at) => raw[at - 1] === 0x0d && raw[at] === 0x0a);
    const insideCharacter = first.filter((at) => at < raw.length && (raw[at]! & 0xc0) === 0x80);
    expect(insideCrlf.length).toBeGreaterThan(0);
    expect(insideCharacter.length).toBeGreaterThan(0);
  });

  it('is cancelled at once and clears its pending timer', async () => {
    const pending = new Set<number>();
    let nextId = 0;
    const delay = (ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        const id = nextId++;
        pending.add(id);
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve();
        }, ms);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          pending.delete(id);
          resolve();
        });
      });
    const slow = buildTape({
      raw,
      family: 'opper',
      url: 'http://x.test/',
      chunkBytes: [5],
      gapMs: 60_000,
    });
    const stream = createReplayStream({ tape: slow, timing: 'recorded', _internal: { delay } });
    const reader = stream.getReader();
    const firstRead = reader.read();
    await vi.waitFor(() => expect(pending.size).toBe(1));
    await reader.cancel();
    expect(pending.size).toBe(0);
    expect((await firstRead).done).toBe(true);
  });

  it('clears its real timer when cancelled mid-wait (no handle left behind)', async () => {
    // Spies, not a count of the process's active timers: other files' timers come and go
    // under load, so only the handle this stream created says whether it leaked.
    const setTimer = vi.spyOn(globalThis, 'setTimeout');
    const clearTimer = vi.spyOn(globalThis, 'clearTimeout');
    try {
      const slow = buildTape({
        raw,
        family: 'opper',
        url: 'http://x.test/',
        chunkBytes: [5],
        gapMs: 3_600_000,
      });
      const reader = createReplayStream({ tape: slow, timing: 'recorded' }).getReader();
      const pendingRead = reader.read();
      await new Promise((resolve) => setImmediate(resolve));
      const hourTimers = setTimer.mock.calls
        .map((call, index) => ({ ms: call[1], handle: setTimer.mock.results[index]?.value }))
        .filter(({ ms }) => typeof ms === 'number' && ms > 1_000_000);
      expect(hourTimers).toHaveLength(1);
      expect(clearTimer.mock.calls.some(([handle]) => handle === hourTimers[0]?.handle)).toBe(
        false,
      );
      await reader.cancel();
      expect(clearTimer.mock.calls.some(([handle]) => handle === hourTimers[0]?.handle)).toBe(true);
      expect((await pendingRead).done).toBe(true);
    } finally {
      setTimer.mockRestore();
      clearTimer.mockRestore();
    }
  });

  it('errors the stream with the abort reason when the request signal aborts', async () => {
    const controller = new AbortController();
    const slow = buildTape({
      raw,
      family: 'opper',
      url: 'http://x.test/',
      chunkBytes: [5],
      gapMs: 60_000,
    });
    const stream = createReplayStream({
      tape: slow,
      timing: 'recorded',
      signal: controller.signal,
    });
    const reader = stream.getReader();
    const pendingRead = reader.read();
    controller.abort();
    await expect(pendingRead).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe("timing: 'recorded'", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('schedules against the start, so a slow reader does not push later chunks back', async () => {
    let nowMs = 0;
    const waits: number[] = [];
    const delay = async (ms: number) => {
      waits.push(ms);
      nowMs += ms;
    };
    const evenly = buildTape({
      raw,
      family: 'opper',
      url: 'http://x.test/',
      chunkBytes: [10, 10, 10, 10],
      gapMs: 100,
    });
    const stream = createReplayStream({
      tape: evenly,
      timing: 'recorded',
      _internal: { now: () => nowMs, delay },
    });
    const reader = stream.getReader();
    await reader.read(); // due at 100
    nowMs += 150; // the consumer spends 150 ms on the first chunk
    await reader.read(); // was due at 200: already late, sent without waiting
    await reader.read(); // due at 300
    expect(waits).toEqual([100, 50]);
  });

  it('applies speed and maxGapMs', () => {
    const spaced = buildTape({
      raw,
      family: 'opper',
      url: 'http://x.test/',
      chunkBytes: [10, 10],
      offsetsMs: [0, 1000, 1200],
    });
    const plan = planReplay({ tape: spaced, timing: { speed: 2, maxGapMs: 300 } });
    expect(plan.pieces.map((piece) => piece.atMs)).toEqual([0, 300, 400]);
  });

  it('releases exactly the chunks that are due under fake timers', async () => {
    vi.useFakeTimers();
    const sizes = Array.from({ length: 200 }, () => 1);
    const many = buildTape({
      raw,
      family: 'opper',
      url: 'http://x.test/',
      chunkBytes: sizes,
      gapMs: 10,
    });
    const stream = createReplayStream({ tape: many, timing: 'recorded' });
    const received: Uint8Array[] = [];
    const done = (async () => {
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>)
        received.push(chunk);
    })();
    await vi.advanceTimersByTimeAsync(55);
    expect(received).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(100);
    expect(received).toHaveLength(15);
    await vi.runAllTimersAsync();
    await done;
    expect(concat(received)).toEqual(many.raw);
  });
});

import { describe, expect, it } from 'vitest';
import { ARENA_BYTES } from './arena-pool.js';
import type { TickBatch } from './internal.js';
import { Tick, type TickTape } from './tick-batch.js';

const tape = (spanId: string, log: string[]): TickTape & { results: unknown[] } => ({
  spanId,
  tickGeneration: -1,
  tickIndex: 0,
  results: [],
  beforeTick() {
    log.push(`head ${spanId}`);
  },
  rawWritten(result) {
    this.results.push(result);
  },
});

/** Each tape's bytes and `[offsetMs, byteLength]` pairs, as the writer thread rebuilds them. */
function split(batch: TickBatch) {
  const laid = new Uint8Array(batch.arenaLengths.reduce((sum, length) => sum + length, 0));
  let at = 0;
  batch.arenas.forEach((arena, index) => {
    laid.set(new Uint8Array(arena, 0, batch.arenaLengths[index]), at);
    at += batch.arenaLengths[index]!;
  });
  const tapes = batch.spanIds.map(() => ({ bytes: [] as number[], timings: [] as number[] }));
  at = 0;
  for (let row = 0; row < batch.chunks.length; row += 3) {
    const [index, offsetMs, length] = [...batch.chunks.subarray(row, row + 3)] as number[];
    for (const byte of laid.subarray(at, at + length!)) tapes[index!]!.bytes.push(byte);
    tapes[index!]!.timings.push(offsetMs!, length!);
    at += length!;
  }
  return tapes;
}

function fill(length: number, seed: number) {
  return Uint8Array.from({ length }, (_, index) => (index * 31 + seed) % 251);
}

/** An open Tick; unless a test says otherwise, `written` is ignored and a tape's error thrown. */
function openTick({
  appendTick,
  written = () => {},
  onError = (error) => {
    throw error;
  },
  maxBufferedBytes = 64 * 1024 * 1024,
}: Pick<ConstructorParameters<typeof Tick>[0], 'appendTick'> &
  Partial<ConstructorParameters<typeof Tick>[0]>) {
  const tick = new Tick({ appendTick, written, onError, maxBufferedBytes });
  tick.open();
  return tick;
}

/** An open tick whose store holds every answer until `settle` (one per batch) is called. */
function heldTick(maxBufferedBytes = 64 * 1024 * 1024) {
  const batches: TickBatch[] = [];
  const settle: Array<() => void> = [];
  const tick = openTick({
    appendTick: (batch) => {
      batches.push(batch);
      return new Promise((resolve) =>
        settle.push(() => resolve({ results: [{ events: 0, dropped: 0 }], arenas: [] })),
      );
    },
    maxBufferedBytes,
  });
  return { tick, batches, settle };
}

describe('Tick', () => {
  it("lays every tape's chunks end to end, writes heads first, and hands each tape its answer", async () => {
    const log: string[] = [];
    const batches: TickBatch[] = [];
    const written: number[] = [];
    const tick = openTick({
      appendTick: async (batch) => {
        log.push('append');
        batches.push(batch);
        return {
          results: batch.spanIds.map((_, index) => ({ events: index, dropped: 0 })),
          arenas: batch.arenas,
        };
      },
      written: (bytes) => written.push(bytes),
    });
    const a = tape('a', log);
    const b = tape('b', log);
    const chunks = [fill(10, 1), fill(ARENA_BYTES, 2), fill(7, 3), fill(5, 4)];
    tick.add(a, chunks[0]!, 10, 1);
    // Longer than what is left in the first arena: it runs on into the next.
    tick.add(b, chunks[1]!, ARENA_BYTES, 2);
    tick.add(a, chunks[2]!, 7, 3);
    // Only the first 3 bytes are recorded (a tape at its byte limit).
    tick.add(b, chunks[3]!, 3, 4);
    await tick.submit();
    expect(log).toEqual(['head a', 'head b', 'append']);
    const [batch] = batches;
    expect(batch!.spanIds).toEqual(['a', 'b']);
    expect(batch!.arenaLengths).toEqual([ARENA_BYTES, 20]);
    const [first, second] = split(batch!);
    expect(first).toEqual({ bytes: [...chunks[0]!, ...chunks[2]!], timings: [1, 10, 3, 7] });
    expect(second).toEqual({
      bytes: [...chunks[1]!, ...chunks[3]!.subarray(0, 3)],
      timings: [2, ARENA_BYTES, 4, 3],
    });
    expect(a.results).toEqual([{ events: 0, dropped: 0 }]);
    expect(b.results).toEqual([{ events: 1, dropped: 0 }]);
    expect(written).toEqual([ARENA_BYTES + 20]);
    // The full arena came back for reuse; the small tail travelled as a copy.
    expect(tick.heldArenaBytes).toBe(ARENA_BYTES);
    expect(batch!.arenas[1]!.byteLength).toBe(20);
    // The arena whose tail went as a copy stays this tick's: the next chunk takes none from the pool.
    tick.add(a, fill(1, 9), 1, 5);
    expect(tick.heldArenaBytes).toBe(ARENA_BYTES);
  });

  it('keeps as many arenas for the next burst as its budget allows, beyond the 32 MiB default', async () => {
    for (const [maxBufferedBytes, kept] of [
      [64 * ARENA_BYTES, 64 * ARENA_BYTES],
      [200 * ARENA_BYTES, 160 * ARENA_BYTES],
      [8 * ARENA_BYTES, 8 * ARENA_BYTES],
    ] as const) {
      const tick = openTick({
        appendTick: async (batch) => ({
          results: batch.spanIds.map(() => ({ events: 0, dropped: 0 })),
          arenas: batch.arenas,
        }),
        maxBufferedBytes,
      });
      // 160 arenas (40 MiB) in one tick, as a burst outruns the writer.
      const a = tape('a', []);
      const chunk = fill(ARENA_BYTES, 1);
      for (let index = 0; index < 160; index++) tick.add(a, chunk, ARENA_BYTES, index);
      await tick.submit();
      expect(tick.heldArenaBytes).toBe(kept);
    }
  });

  it('sends an arena with a large tail itself, and the next tick fills a fresh one', async () => {
    const { tick, batches, settle } = heldTick();
    const a = tape('a', []);
    const large = fill(ARENA_BYTES / 2, 7);
    tick.add(a, large, large.byteLength, 0);
    const firstSent = tick.submit();
    tick.add(a, fill(100, 8), 100, 1);
    const secondSent = tick.submit();
    expect(batches[0]!.arenas[0]!.byteLength).toBe(ARENA_BYTES);
    expect(split(batches[0]!)[0]!.bytes).toEqual([...large]);
    expect(split(batches[1]!)[0]!.bytes).toEqual([...fill(100, 8)]);
    for (const each of settle) each();
    await Promise.all([firstSent, secondSent]);
  });

  it('keeps filling the arena whose small tail it sent, and a later tick does not disturb an earlier one', async () => {
    const { tick, batches, settle } = heldTick();
    const a = tape('a', []);
    tick.add(a, fill(100, 5), 100, 0);
    const firstSent = tick.submit();
    // The next tick writes over the arena's first bytes while the first is still in flight.
    tick.add(a, fill(100, 6), 100, 1);
    const secondSent = tick.submit();
    expect(split(batches[0]!)[0]!.bytes).toEqual([...fill(100, 5)]);
    expect(split(batches[1]!)[0]!.bytes).toEqual([...fill(100, 6)]);
    for (const each of settle) each();
    await Promise.all([firstSent, secondSent]);
    expect(a.results).toHaveLength(2);
  });

  it('goes to the store on its own once it holds a quarter of maxBufferedBytes, 16 MiB at most', async () => {
    const small = heldTick(4000);
    const a = tape('a', []);
    small.tick.add(a, fill(999, 1), 999, 0);
    await new Promise(setImmediate);
    expect(small.batches).toHaveLength(0);
    small.tick.add(a, fill(1, 2), 1, 1);
    await new Promise(setImmediate);
    expect(small.batches.map((batch) => batch.chunks.length / 3)).toEqual([2]);

    const large = heldTick(1024 * 1024 * 1024);
    const b = tape('b', []);
    const mebibyte = fill(1024 * 1024, 3);
    for (let index = 0; index < 15; index++)
      large.tick.add(b, mebibyte, mebibyte.byteLength, index);
    large.tick.add(b, mebibyte, mebibyte.byteLength - 1, 15);
    await new Promise(setImmediate);
    expect(large.batches).toHaveLength(0);
    large.tick.add(b, mebibyte, 1, 16);
    await new Promise(setImmediate);
    expect(large.batches).toHaveLength(1);
  });

  it('runs what waits for the next tick right after that tick goes, with its answer, even when the tick is empty or one of them throws', async () => {
    const log: string[] = [];
    const errors: unknown[] = [];
    let answer: (() => void) | undefined;
    const tick = openTick({
      appendTick: (batch) => {
        log.push(`append ${batch.spanIds.join(' ')}`);
        return new Promise((resolve) => {
          answer = () =>
            resolve({ results: batch.spanIds.map(() => ({ events: 0, dropped: 0 })), arenas: [] });
        });
      },
      onError: (error, failed) => errors.push([failed.spanId, String(error)]),
    });
    const a = tape('a', log);
    const b = tape('b', log);
    tick.add(a, fill(4, 1), 4, 0);
    let answered: Promise<void> | undefined;
    tick.behindNext(a, (sent) => {
      log.push('behind a');
      answered = sent;
    });
    tick.behindNext(b, () => {
      throw new Error('broken');
    });
    tick.behindNext(b, () => log.push('behind b'));
    expect(log).toEqual([]);
    const sent = tick.submit();
    expect(log).toEqual(['head a', 'append a', 'behind a', 'behind b']);
    expect(answered).toBe(sent);
    expect(errors).toEqual([['b', 'Error: broken']]);
    // Nothing gathered: what waits still goes, with the answer of the tick before.
    let afterEmpty: Promise<void> | undefined;
    tick.behindNext(a, (previous) => {
      afterEmpty = previous;
    });
    expect(tick.submit()).toBe(sent);
    expect(afterEmpty).toBe(sent);
    answer!();
    await sent;
  });

  it('fails a tick whose store throws instead of rejecting like one that rejects, and still runs what waits for it', async () => {
    const tick = openTick({
      appendTick: () => {
        throw new Error('thrown');
      },
    });
    const a = tape('a', []);
    tick.add(a, fill(4, 1), 4, 0);
    let waited = false;
    tick.behindNext(a, () => {
      waited = true;
    });
    await tick.submit();
    expect(waited).toBe(true);
    expect(a.results.map(String)).toEqual(['Error: thrown']);
  });

  it('tells every tape of a tick the error when the store fails it, and counts its bytes as let go', async () => {
    let calls = 0;
    const written: number[] = [];
    const tick = openTick({
      appendTick: async () => {
        calls += 1;
        throw new Error('disk full');
      },
      written: (bytes) => written.push(bytes),
    });
    const a = tape('a', []);
    const b = tape('b', []);
    tick.add(a, fill(4, 1), 4, 0);
    tick.add(b, fill(4, 2), 4, 0);
    await tick.submit();
    expect([a.results, b.results].map((results) => String(results[0]))).toEqual([
      'Error: disk full',
      'Error: disk full',
    ]);
    expect(written).toEqual([8]);
    // Nothing to send: no call.
    await tick.submit();
    expect(calls).toBe(1);
  });
});

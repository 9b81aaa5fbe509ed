import { describe, expect, it } from 'vitest';
import { ARENA_BYTES, ArenaPool } from './arena-pool.js';

describe('ArenaPool', () => {
  it('hands out plain (transferable) arenas of one size', () => {
    const pool = new ArenaPool();
    pool.open();
    const arena = pool.acquire();
    expect(arena.byteLength).toBe(ARENA_BYTES);
    expect(arena).toBeInstanceOf(ArrayBuffer);
  });

  it('gives a released arena back for the next request, and only once', () => {
    const pool = new ArenaPool();
    pool.open();
    const first = pool.acquire();
    pool.release(first);
    expect(pool.heldBytes).toBe(ARENA_BYTES);
    const again = pool.acquire();
    expect(again).toBe(first);
    expect(pool.heldBytes).toBe(0);
    expect(pool.acquire()).not.toBe(first);
  });

  it('lets go of a buffer of another size, or one a transfer detached', () => {
    const pool = new ArenaPool();
    pool.open();
    pool.release(new ArrayBuffer(ARENA_BYTES / 2));
    const detached = pool.acquire();
    structuredClone(detached, { transfer: [detached] });
    pool.release(detached);
    expect(pool.heldBytes).toBe(0);
  });

  it('keeps at most maxFreeBytes for reuse (32 MiB by default)', () => {
    for (const [options, kept] of [
      [{}, 32 * 1024 * 1024],
      [{ maxFreeBytes: 40 * ARENA_BYTES + 1 }, 40 * ARENA_BYTES],
    ] as const) {
      const pool = new ArenaPool(options);
      pool.open();
      const count = kept / ARENA_BYTES + 100;
      const arenas = Array.from({ length: count }, () => pool.acquire());
      for (const arena of arenas) pool.release(arena);
      expect(pool.heldBytes).toBe(kept);
    }
  });

  it('lets go of everything once no stream has used it for idleMs, even arenas given back late', () => {
    let nowMs = 0;
    const timers: Array<{ callback: () => void; delayMs: number }> = [];
    const pool = new ArenaPool({
      idleMs: 1000,
      now: () => nowMs,
      schedule: (callback, delayMs) => timers.push({ callback, delayMs }),
    });
    const fire = () => {
      const timer = timers.shift();
      nowMs += timer?.delayMs ?? 0;
      timer?.callback();
    };
    pool.open();
    pool.open();
    const late = pool.acquire();
    pool.release(pool.acquire());
    pool.close();
    expect(timers).toHaveLength(0);
    pool.close();
    expect(timers.map((timer) => timer.delayMs)).toEqual([1000]);
    // A new stream before the timer fires keeps the pool.
    pool.open();
    fire();
    expect(pool.heldBytes).toBe(ARENA_BYTES);
    pool.close();
    // The write of the last stream settles after it ended: its arena comes back, then all go.
    pool.release(late);
    expect(pool.heldBytes).toBe(2 * ARENA_BYTES);
    expect(timers).toHaveLength(1);
    fire();
    expect(pool.heldBytes).toBe(0);
    pool.release(pool.acquire());
    expect(timers).toHaveLength(1);
    fire();
    expect(pool.heldBytes).toBe(0);
  });

  it('counts idleMs from the last use: bursts less than idleMs apart keep their arenas', () => {
    let nowMs = 0;
    const timers: Array<{ callback: () => void; delayMs: number }> = [];
    const pool = new ArenaPool({
      idleMs: 1000,
      now: () => nowMs,
      schedule: (callback, delayMs) => timers.push({ callback, delayMs }),
    });
    const burst = () => {
      pool.open();
      pool.release(pool.acquire());
      pool.close();
    };
    burst();
    expect(timers.map((timer) => timer.delayMs)).toEqual([1000]);
    // A second burst ends at 700 ms: the timer set by the first finds the pool used 300 ms ago
    // and waits the 700 ms left.
    nowMs = 700;
    burst();
    expect(timers).toHaveLength(1);
    nowMs = 1000;
    timers.shift()?.callback();
    expect(pool.heldBytes).toBe(ARENA_BYTES);
    expect(timers.map((timer) => timer.delayMs)).toEqual([700]);
    nowMs = 1700;
    timers.shift()?.callback();
    expect(pool.heldBytes).toBe(0);
    expect(timers).toHaveLength(0);
  });
});

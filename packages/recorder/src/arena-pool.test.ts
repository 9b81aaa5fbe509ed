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

  it('keeps at most 32 MiB for reuse', () => {
    const pool = new ArenaPool();
    pool.open();
    const count = (32 * 1024 * 1024) / ARENA_BYTES + 100;
    const arenas = Array.from({ length: count }, () => pool.acquire());
    for (const arena of arenas) pool.release(arena);
    expect(pool.heldBytes).toBe(32 * 1024 * 1024);
  });

  it('lets go of everything once no stream has used it for idleMs, even arenas given back late', () => {
    const timers: Array<{ callback: () => void; delayMs: number }> = [];
    const pool = new ArenaPool({
      idleMs: 1000,
      schedule: (callback, delayMs) => timers.push({ callback, delayMs }),
    });
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
    timers.shift()?.callback();
    expect(pool.heldBytes).toBe(ARENA_BYTES);
    pool.close();
    // The write of the last stream settles after it ended: its arena comes back, then all go.
    pool.release(late);
    expect(pool.heldBytes).toBe(2 * ARENA_BYTES);
    expect(timers).toHaveLength(1);
    timers.shift()?.callback();
    expect(pool.heldBytes).toBe(0);
    pool.release(pool.acquire());
    expect(timers).toHaveLength(1);
    timers.shift()?.callback();
    expect(pool.heldBytes).toBe(0);
  });
});

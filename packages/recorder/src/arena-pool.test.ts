import { describe, expect, it } from 'vitest';
import { ArenaPool, BLOCK_BYTES } from './arena-pool.js';

describe('ArenaPool', () => {
  it('hands out shared blocks of one size', () => {
    const pool = new ArenaPool();
    pool.open();
    const block = pool.acquire();
    expect(block.byteLength).toBe(BLOCK_BYTES);
    expect(block.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('gives a released block back for the next request, and only once', () => {
    const pool = new ArenaPool();
    pool.open();
    const first = pool.acquire();
    pool.release(first);
    expect(pool.heldBytes).toBe(BLOCK_BYTES);
    const again = pool.acquire();
    expect(again.buffer).toBe(first.buffer);
    expect(pool.heldBytes).toBe(0);
    expect(pool.acquire().buffer).not.toBe(first.buffer);
  });

  it('keeps at most 32 MiB for reuse', () => {
    const pool = new ArenaPool();
    pool.open();
    const count = (32 * 1024 * 1024) / BLOCK_BYTES + 100;
    const blocks = Array.from({ length: count }, () => pool.acquire());
    for (const block of blocks) pool.release(block);
    expect(pool.heldBytes).toBe(32 * 1024 * 1024);
  });

  it('lets go of everything once no stream has used it for idleMs, even blocks given back late', () => {
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
    expect(pool.heldBytes).toBe(BLOCK_BYTES);
    pool.close();
    // The write of the last stream settles after it ended: its block comes back, then all go.
    pool.release(late);
    expect(pool.heldBytes).toBe(2 * BLOCK_BYTES);
    expect(timers).toHaveLength(1);
    timers.shift()?.callback();
    expect(pool.heldBytes).toBe(0);
    pool.release(pool.acquire());
    expect(timers).toHaveLength(1);
    timers.shift()?.callback();
    expect(pool.heldBytes).toBe(0);
  });
});

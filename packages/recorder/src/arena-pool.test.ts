import { describe, expect, it } from 'vitest';
import { ArenaPool } from './arena-pool.js';

describe('ArenaPool', () => {
  it('hands out shared arenas in powers of two from 4 KiB', () => {
    const pool = new ArenaPool();
    pool.open();
    expect(pool.acquire(1).byteLength).toBe(4096);
    expect(pool.acquire(4097).byteLength).toBe(8192);
    expect(pool.acquire(300_000).byteLength).toBe(512 * 1024);
    expect(pool.acquire(10).buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('gives a released arena back for the next request of its size, and only once', () => {
    const pool = new ArenaPool();
    pool.open();
    const first = pool.acquire(10_000);
    pool.release(first);
    expect(pool.heldBytes).toBe(16384);
    const again = pool.acquire(9_000);
    expect(again.buffer).toBe(first.buffer);
    expect(pool.heldBytes).toBe(0);
    expect(pool.acquire(9_000).buffer).not.toBe(first.buffer);
    // Another size class does not take it.
    pool.release(again);
    expect(pool.acquire(20_000).buffer).not.toBe(first.buffer);
  });

  it('keeps at most 32 MiB for reuse', () => {
    const pool = new ArenaPool();
    pool.open();
    const arenas = Array.from({ length: 40 }, () => pool.acquire(1024 * 1024));
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
    const late = pool.acquire(5000);
    pool.release(pool.acquire(5000));
    pool.close();
    expect(timers).toHaveLength(0);
    pool.close();
    expect(timers.map((timer) => timer.delayMs)).toEqual([1000]);
    // A new stream before the timer fires keeps the pool.
    pool.open();
    timers.shift()?.callback();
    expect(pool.heldBytes).toBe(8192);
    pool.close();
    // The write of the last stream settles after it ended: its arena comes back, then all go.
    pool.release(late);
    expect(pool.heldBytes).toBe(16384);
    expect(timers).toHaveLength(1);
    timers.shift()?.callback();
    expect(pool.heldBytes).toBe(0);
    pool.release(pool.acquire(5000));
    expect(timers).toHaveLength(1);
    timers.shift()?.callback();
    expect(pool.heldBytes).toBe(0);
  });
});

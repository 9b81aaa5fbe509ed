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

  it('holds nothing once its last stream closes, and takes nothing back while unused', () => {
    const pool = new ArenaPool();
    pool.open();
    pool.open();
    const arena = pool.acquire(5000);
    pool.release(arena);
    pool.close();
    expect(pool.heldBytes).toBe(8192);
    pool.close();
    expect(pool.heldBytes).toBe(0);
    pool.release(pool.acquire(5000));
    expect(pool.heldBytes).toBe(0);
  });
});

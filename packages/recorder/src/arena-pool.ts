/** Free blocks kept at most, in bytes. */
const MAX_FREE_BYTES = 32 * 1024 * 1024;

/**
 * The size of every block. A stream's bytes between two flushes are gathered in blocks of this
 * one size, chained: no block is grown or copied, and every stream asks for the same size, so a
 * pool that has any free block has one that fits (growing one buffer per stream took new shared
 * memory, page faults and all, for every stream that started). The writer thread joins a tape's
 * blocks back into one segment.
 */
export const BLOCK_BYTES = 8 * 1024;

/**
 * Reusable blocks for the bytes a recorder gathers between flushes. A fresh buffer per flush
 * costs more than the copy into it: its pages fault in, and because it lives past the next
 * young-generation collection V8 counts it as external memory and runs full collections 2-3x
 * as often as without the recorder (100 concurrent streams: 7 instead of 3 per 5 runs). A
 * pooled one is already mapped and allocates nothing.
 *
 * Blocks are SharedArrayBuffers: a segment reaches the SQLite writer thread as views of the
 * same memory (no copy, no transfer), and comes back to the pool once the write that carried it
 * has settled. A second after the last stream ends the pool lets go of everything, so the memory
 * returns once recording stops.
 */
export class ArenaPool {
  private readonly free: SharedArrayBuffer[] = [];
  private freeBytes = 0;
  private users = 0;
  private emptyScheduled = false;
  private readonly idleMs: number;
  private readonly schedule: (callback: () => void, delayMs: number) => void;

  /**
   * @param idleMs - how long the pool keeps its blocks once no stream uses it: the next burst
   *   of streams finds them mapped (new shared memory costs its pages again).
   * @param schedule - the timer (tests inject one); the default does not keep the process alive.
   */
  constructor({
    idleMs = 1000,
    schedule = (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  }: {
    idleMs?: number;
    schedule?: (callback: () => void, delayMs: number) => void;
  } = {}) {
    this.idleMs = idleMs;
    this.schedule = schedule;
  }

  /** A stream starts using the pool. */
  open(): void {
    this.users += 1;
  }

  /** A stream stops using the pool; once none has for `idleMs`, the pool empties. */
  close(): void {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0) this.emptyWhenIdle();
  }

  private emptyWhenIdle(): void {
    if (this.emptyScheduled) return;
    this.emptyScheduled = true;
    this.schedule(() => {
      this.emptyScheduled = false;
      if (this.users > 0) return;
      this.free.length = 0;
      this.freeBytes = 0;
    }, this.idleMs);
  }

  /** A block of {@link BLOCK_BYTES}; its contents are whatever the last user left. */
  acquire(): Uint8Array<SharedArrayBuffer> {
    const buffer = this.free.pop();
    if (buffer) {
      this.freeBytes -= BLOCK_BYTES;
      return new Uint8Array(buffer);
    }
    return new Uint8Array(new SharedArrayBuffer(BLOCK_BYTES));
  }

  /** Gives a block back; nothing may read or write it afterwards. */
  release(block: Uint8Array<SharedArrayBuffer>): void {
    if (this.freeBytes + BLOCK_BYTES > MAX_FREE_BYTES) return;
    this.free.push(block.buffer);
    this.freeBytes += BLOCK_BYTES;
    // A write that settles after the last stream ended still hands its block back.
    if (this.users === 0) this.emptyWhenIdle();
  }

  /** Bytes held for reuse (for tests). */
  get heldBytes(): number {
    return this.freeBytes;
  }
}

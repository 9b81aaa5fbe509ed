/**
 * The size of every arena. Every stream's chunks of a flush tick are copied end to end into
 * arenas of this one size (a chunk may run on into the next arena), so a pool that has any free
 * arena has one that fits, and a tick of many streams travels to the writer thread as a few
 * buffers, not one per stream.
 */
export const ARENA_BYTES = 256 * 1024;

/**
 * Reusable arenas for the bytes a recorder gathers between flushes. A fresh buffer per flush
 * costs more than the copy into it: its pages fault in, and because it lives past the next
 * young-generation collection V8 counts it as external memory and runs full collections 2-3x
 * as often as without the recorder (100 concurrent streams: 7 instead of 3 per 5 runs). A
 * pooled one is already mapped and allocates nothing.
 *
 * Arenas are plain ArrayBuffers: they are transferred to the SQLite writer thread with the
 * tick's batch and transferred back when it has been written, then released here. (Shared
 * arenas the writer reads in place cost both threads more CPU in paired runs.) Once no stream
 * has used the pool for a second the pool lets go of everything, so the memory returns once
 * recording stops; bursts a few hundred milliseconds apart keep finding their arenas mapped.
 */
export class ArenaPool {
  private readonly free: ArrayBuffer[] = [];
  private freeBytes = 0;
  private users = 0;
  /** When the last stream stopped using the pool (by `now`). */
  private idleSince = 0;
  private emptyScheduled = false;
  private readonly idleMs: number;
  private readonly maxFreeBytes: number;
  private readonly now: () => number;
  private readonly schedule: (callback: () => void, delayMs: number) => void;

  /**
   * @param idleMs - how long the pool keeps its arenas once no stream uses it: the next burst
   *   of streams finds them mapped (new memory costs its pages again).
   * @param maxFreeBytes - free arenas kept at most, in bytes. The pool only holds arenas that
   *   were in use at once, so this bounds what it keeps, never what it hands out; the recorder
   *   passes its `maxBufferedBytes`, which already bounds the arenas in use.
   * @param now - the clock in ms (tests inject one).
   * @param schedule - the timer (tests inject one); the default does not keep the process alive.
   */
  constructor({
    idleMs = 1000,
    maxFreeBytes = 32 * 1024 * 1024,
    now = () => performance.now(),
    schedule = (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  }: {
    idleMs?: number;
    maxFreeBytes?: number;
    now?: () => number;
    schedule?: (callback: () => void, delayMs: number) => void;
  } = {}) {
    this.idleMs = idleMs;
    this.maxFreeBytes = maxFreeBytes;
    this.now = now;
    this.schedule = schedule;
  }

  /** A stream starts using the pool. */
  open(): void {
    this.users += 1;
  }

  /** A stream stops using the pool; once none has for `idleMs`, the pool empties. */
  close(): void {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0) {
      this.idleSince = this.now();
      this.emptyWhenIdle(this.idleMs);
    }
  }

  private emptyWhenIdle(delayMs: number): void {
    if (this.emptyScheduled) return;
    this.emptyScheduled = true;
    this.schedule(() => {
      this.emptyScheduled = false;
      // In use again: its last user's close starts the wait anew.
      if (this.users > 0) return;
      // Used since this timer was set: wait out the rest of idleMs after that last use.
      const idleMs = this.now() - this.idleSince;
      if (idleMs < this.idleMs) {
        this.emptyWhenIdle(this.idleMs - idleMs);
        return;
      }
      this.free.length = 0;
      this.freeBytes = 0;
    }, delayMs);
  }

  /** An arena of {@link ARENA_BYTES}; its contents are whatever the last user left. */
  acquire(): ArrayBuffer {
    const buffer = this.free.pop();
    if (buffer) {
      this.freeBytes -= ARENA_BYTES;
      return buffer;
    }
    return new ArrayBuffer(ARENA_BYTES);
  }

  /**
   * Gives an arena back; nothing may read or write it afterwards. Anything else (a buffer of
   * another size, one detached by a transfer that never came back) is let go.
   */
  release(arena: ArrayBuffer): void {
    if (arena.byteLength !== ARENA_BYTES || this.freeBytes + ARENA_BYTES > this.maxFreeBytes) {
      return;
    }
    this.free.push(arena);
    this.freeBytes += ARENA_BYTES;
    // A write that settles after the last stream ended still hands its arena back.
    if (this.users === 0) this.emptyWhenIdle(this.idleMs);
  }

  /** Bytes held for reuse (for tests). */
  get heldBytes(): number {
    return this.freeBytes;
  }
}

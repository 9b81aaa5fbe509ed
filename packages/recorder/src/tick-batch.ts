import { ARENA_BYTES, ArenaPool } from './arena-pool.js';
import type { AppendTick, TickResult } from './internal.js';

/** The most a tick gathers before it goes to the store ahead of the flush interval. */
const MAX_SUBMIT_BYTES = 16 * 1024 * 1024;

const NO_ARENA = new Uint8Array(0);
/** What is left in the arena being filled at a submit is copied out when this small or smaller. */
const SMALL_TAIL_BYTES = ARENA_BYTES / 4;

/** What a tick needs of a tape being recorded. */
export interface TickTape {
  readonly spanId: string;
  /** The tick this tape last joined, and its place in that tick's tapes. */
  tickGeneration: number;
  tickIndex: number;
  /** Called before a tick carrying this tape's bytes goes to the store: its head must go first. */
  beforeTick(): void;
  /** The store's answer for this tape's part of a tick. */
  rawWritten(result: TickResult | Error): void;
}

/**
 * Every chunk of every stream recorded since the last flush, gathered for one store call. A
 * chunk is copied end to end after the previous one, whatever its stream, into pooled arenas,
 * and its tape, arrival offset and length go in one table: nothing is allocated per stream or
 * per chunk, and a tick travels to the SQLite writer thread as a few transferred buffers, which
 * the writer hands back.
 */
export class Tick {
  private readonly appendTick: AppendTick;
  private readonly pool: ArenaPool;
  private readonly written: (bytes: number) => void;
  private readonly onError: (error: unknown, tape: TickTape) => void;
  private generation = 0;
  private tapes: TickTape[] = [];
  private arenas: ArrayBuffer[] = [];
  private arenaLengths: number[] = [];
  private arena: Uint8Array = NO_ARENA;
  private arenaLength = 0;
  /** `[tape, offsetMs, byteLength]` per chunk; reused, as the store gets a copy. */
  private chunks = new Float64Array(3 * 256);
  private chunkCount = 0;
  private bytes = 0;
  /** Bytes gathered at which this tick goes to the store before the flush interval. */
  private readonly submitBytes: number;
  private submitScheduled = false;
  /** The newest tick sent, settled once answered. */
  private last: Promise<void> = Promise.resolve();
  /** What goes to the store right behind the next tick (the finishes of tapes that ended). */
  private behind: Array<{ tape: TickTape; write: (answered: Promise<void>) => void }> = [];

  /**
   * @param appendTick - the store's {@link AppendTick}.
   * @param written - told how many bytes each tick carried once the store has answered.
   * @param onError - told when handing a tape its answer failed.
   * @param maxBufferedBytes - the recorder's budget of bytes not yet written. A tick goes to the
   *   store early once it holds a quarter of it (16 MiB at most), so one tick never takes more
   *   than a quarter of the budget, and a burst is written in few, large ticks (each one
   *   message, transaction and answer) rather than many small ones.
   */
  constructor({
    appendTick,
    written,
    onError,
    maxBufferedBytes,
  }: {
    appendTick: AppendTick;
    written: (bytes: number) => void;
    onError: (error: unknown, tape: TickTape) => void;
    maxBufferedBytes: number;
  }) {
    this.appendTick = appendTick;
    this.written = written;
    this.onError = onError;
    this.submitBytes = Math.max(1, Math.min(MAX_SUBMIT_BYTES, Math.floor(maxBufferedBytes / 4)));
    // A burst finds as many arenas mapped as the last one had out at once (at most the budget):
    // fresh ones cost their page faults, and V8 counts them as external memory, which brings on
    // full collections.
    this.pool = new ArenaPool({ maxFreeBytes: maxBufferedBytes });
  }

  /** A stream starts recording into ticks (the pool keeps its arenas while any does). */
  open(): void {
    this.pool.open();
  }

  close(): void {
    this.pool.close();
  }

  /** Hot path: copies the first `length` bytes of `bytes` into this tick for `tape`. */
  add(tape: TickTape, bytes: Uint8Array, length: number, offsetMs: number): void {
    let index = tape.tickIndex;
    if (tape.tickGeneration !== this.generation) {
      index = this.tapes.length;
      tape.tickGeneration = this.generation;
      tape.tickIndex = index;
      this.tapes.push(tape);
    }
    for (let from = 0; from < length; ) {
      if (this.arenaLength === this.arena.length) this.nextArena();
      const take = Math.min(length - from, this.arena.length - this.arenaLength);
      this.arena.set(
        take === bytes.byteLength ? bytes : bytes.subarray(from, from + take),
        this.arenaLength,
      );
      this.arenaLength += take;
      from += take;
    }
    let at = this.chunkCount * 3;
    if (at + 3 > this.chunks.length) {
      const grown = new Float64Array(this.chunks.length * 2);
      grown.set(this.chunks);
      this.chunks = grown;
    }
    const chunks = this.chunks;
    chunks[at++] = index;
    chunks[at++] = offsetMs;
    chunks[at] = length;
    this.chunkCount += 1;
    this.bytes += length;
    if (this.bytes >= this.submitBytes && !this.submitScheduled) {
      // Bounds what a fast stream holds between flushes, without a store call per chunk.
      this.submitScheduled = true;
      setImmediate(() => {
        this.submitScheduled = false;
        void this.submit();
      });
    }
  }

  private nextArena(): void {
    if (this.arena !== NO_ARENA) {
      this.arenas.push(this.arena.buffer as ArrayBuffer);
      this.arenaLengths.push(this.arenaLength);
    }
    this.arena = new Uint8Array(this.pool.acquire());
    this.arenaLength = 0;
  }

  /**
   * Calls `write` right after the next tick goes to the store (or would have, when it holds
   * nothing), with the promise of that tick's answer: a store that applies calls in order then
   * takes `write`'s call after the tick's bytes. A stream's end waits for the next flush this way
   * rather than sending a tick of its own: a hundred streams ending one by one would otherwise
   * cost a hundred ticks, each with its own copy, message and answer.
   */
  behindNext(tape: TickTape, write: (answered: Promise<void>) => void): void {
    this.behind.push({ tape, write });
  }

  /** Whether anything waits for the next tick (see {@link behindNext}). */
  get waiting(): boolean {
    return this.behind.length > 0;
  }

  /**
   * Sends what this tick holds to the store, and starts the next; then what waited for it (see
   * {@link behindNext}). Resolves once the store has answered for every tick sent so far (it
   * answers in order).
   */
  submit(): Promise<void> {
    const sent = this.send();
    const behind = this.behind;
    this.behind = [];
    for (const { tape, write } of behind) {
      try {
        write(sent);
      } catch (error) {
        this.onError(error, tape);
      }
    }
    return sent;
  }

  private send(): Promise<void> {
    if (this.chunkCount === 0) return this.last;
    const tapes = this.tapes;
    // A tape's head is written when its first chunk is flushed; one that arrived in this very
    // tick may not have been yet, and its append needs it.
    for (const tape of tapes) {
      try {
        tape.beforeTick();
      } catch (error) {
        this.onError(error, tape);
      }
    }
    if (this.arenaLength > 0) {
      if (this.arenaLength <= SMALL_TAIL_BYTES) {
        // A few bytes (a flush, or the last stream ending, sends what the tick holds) travel as
        // a copy, and the arena stays to be filled again: otherwise every such tick would send a
        // whole arena, and a thousand small ticks would hold a thousand of them.
        this.arenas.push(this.arena.slice(0, this.arenaLength).buffer);
      } else {
        this.arenas.push(this.arena.buffer as ArrayBuffer);
        this.arena = NO_ARENA;
      }
      this.arenaLengths.push(this.arenaLength);
      this.arenaLength = 0;
    }
    const bytes = this.bytes;
    const batch = {
      spanIds: tapes.map((tape) => tape.spanId),
      arenas: this.arenas,
      arenaLengths: this.arenaLengths,
      chunks: this.chunks.slice(0, this.chunkCount * 3),
    };
    let sent: ReturnType<AppendTick>;
    try {
      sent = this.appendTick(batch);
    } catch (error) {
      // A store that throws rather than rejects fails the tick the same way.
      sent = Promise.reject(error);
    }
    this.generation += 1;
    this.tapes = [];
    this.arenas = [];
    this.arenaLengths = [];
    this.chunkCount = 0;
    this.bytes = 0;
    const answered = (results: Array<TickResult | Error> | Error) => {
      this.written(bytes);
      for (let index = 0; index < tapes.length; index++) {
        const result = results instanceof Error ? results : results[index];
        const tape = tapes[index] as TickTape;
        try {
          tape.rawWritten(result ?? new Error('the store returned no result for this append'));
        } catch (error) {
          this.onError(error, tape);
        }
      }
    };
    this.last = sent.then(
      ({ results, arenas }) => {
        for (const arena of arenas) this.pool.release(arena);
        answered(results);
      },
      (error: unknown) => answered(error instanceof Error ? error : new Error(String(error))),
    );
    return this.last;
  }

  /** Arenas held for reuse (for tests). */
  get heldArenaBytes(): number {
    return this.pool.heldBytes;
  }
}

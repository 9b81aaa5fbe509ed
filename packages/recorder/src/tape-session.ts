import { createParser, type ParseError, type SseParser } from '@tapedeck/sse';
import type {
  StreamFamily,
  TapedeckErrorCode,
  TapeEvent,
  TapeHead,
  TapeOutcome,
  TapeStore,
} from '@tapedeck/types';
import { detectFamily, TapedeckError, toTapeEvent } from '@tapedeck/types';
import { type ArenaPool, BLOCK_BYTES } from './arena-pool.js';
import { type LearntKeys, learnStreamKeys } from './stream-keys.js';

/** How many leading events are parsed as JSON to learn the tape's keys and family. */
const KEY_SCAN_EVENTS = 16;
/** The key parser reads a stream's bytes this many at a time, to stop soon after those events. */
const KEY_SCAN_PIECE_BYTES = 4096;
/** Unflushed bytes above which a stream flushes before the interval (bounds memory). */
const EARLY_FLUSH_BYTES = 1024 * 1024;

const NO_ARENA = new Uint8Array(new SharedArrayBuffer(0));

/** What a session needs from the recorder that owns it. */
export interface SessionHost {
  store: TapeStore;
  now(): number;
  maxTapeBytes: number;
  report(
    code: TapedeckErrorCode,
    message: string,
    cause: unknown,
    context: Record<string, unknown>,
  ): void;
  requestEarlyFlush(session: TapeSession): void;
  /** Where raw-mode sessions take the buffers their bytes are gathered in. */
  arenas: ArenaPool;
  onEnded(session: TapeSession, outcome: TapeOutcome): void;
  /**
   * Bytes every session of the recorder holds that the store has not taken yet (gathered, or
   * in a write that has not settled). A session adds a chunk's bytes, and the host takes them
   * off through {@link SessionHost.written}.
   */
  heldBytes: number;
  /** The most {@link SessionHost.heldBytes} may reach; a chunk beyond it stops the recording. */
  maxBufferedBytes: number;
  /** `bytes` the store has taken (or that will never reach it). */
  written(bytes: number): void;
  /** A session stopped recording because the recorder's buffer budget was spent. */
  onDropped(session: TapeSession): void;
  /**
   * Present when the store appends raw segments of many tapes in one call: queues this
   * session's segment for the current tick's batch and returns the promise of that batch. The
   * segment is `byteLength` bytes in `blocks` (every one full but the last), its chunks the
   * first `timingsLength` numbers of `timings` (copied before this returns). The host calls
   * {@link TapeSession.rawWritten} with the result and gives the blocks back to the pool once
   * the batch has settled.
   */
  queueRaw?(
    session: TapeSession,
    blocks: Array<Uint8Array<SharedArrayBuffer>>,
    byteLength: number,
    timings: Float64Array,
    timingsLength: number,
  ): Promise<void>;
  /** Sends the queued batch now (a session's later writes must follow its appends). */
  submitRaw(): void;
}

/**
 * One stream being recorded. The consumer's path only calls {@link TapeSession.onChunk}, which
 * copies the chunk and returns; parsing and store writes happen in {@link TapeSession.flush}.
 *
 * With a store that frames bytes itself (the SQLite store, on its writer thread) the session
 * parses only the first events, to learn the tape's family and keys, then just hands bytes on.
 * With any other store it frames every event here and appends them with their data.
 */
const TAIL_BYTES = 24;
/** `data: [DONE]` (or `data:[DONE]`) and the blank line that dispatches it, at the very end. */
const DONE_SENTINEL_END = /(?:^|[\r\n])data: ?\[DONE\](?:\r\n|\r|\n)(?:\r\n|\r|\n)$/;

export class TapeSession {
  readonly spanId: string;
  ended = false;
  /** Settles when every write issued so far has settled. */
  chain: Promise<void> = Promise.resolve();
  bytes = 0;
  events = 0;

  /** Until the head is written: after that only its start time is needed. */
  private head: TapeHead | undefined;
  private readonly startedAt: number;
  private readonly host: SessionHost;
  /** Until the keys are settled in raw mode (then nothing reads it again). */
  private parser: SseParser | undefined;
  /** Why recording stopped before the stream ended, for the finish record. */
  private stoppedBecause: string | undefined;
  private pendingChunks: Array<{ offsetMs: number; bytes: Uint8Array }> = [];
  /** Raw mode, until the keys are settled: `[offsetMs, start, end]` of each chunk in this flush's bytes. */
  private keyChunkBounds: number[] = [];
  private pendingBytes = 0;
  private parsedEvents: TapeEvent[] = [];
  private firstEvents: Array<{ data: string; type: string }> = [];
  /** How many of {@link firstEvents} have been scanned for keys. */
  private keyEventsScanned = 0;
  /** Set when the store frames events itself: the host batches this tape's bytes for it. */
  private readonly queueRaw: SessionHost['queueRaw'];
  /** The block being filled; `blocks` holds this flush's full ones before it. */
  private arena: Uint8Array<SharedArrayBuffer> = NO_ARENA;
  private blocks: Array<Uint8Array<SharedArrayBuffer>> = [];
  /** True once the first chunk asked for an early flush, to learn the keys soon. */
  private keyScanRequested = false;
  private arenaLength = 0;
  /** `[offsetMs, byteLength]` per chunk since the last flush; reused from flush to flush. */
  private timings = new Float64Array(16);
  private timingsLength = 0;
  /** In raw mode, true once the leading events told us what we need. */
  private keysSettled = false;
  private droppedReported = 0;
  /** The stream's last few bytes, to tell a cancel after `[DONE]` from one mid-stream. */
  private tail = new Uint8Array(TAIL_BYTES);
  private tailLength = 0;
  private currentOffsetMs = 0;
  private learnt: LearntKeys = {};
  private family: StreamFamily;
  private headWritten = false;
  private failed = false;
  private truncated = false;

  constructor(head: TapeHead, host: SessionHost) {
    this.head = head;
    this.startedAt = head.startedAt;
    this.host = host;
    this.spanId = head.spanId;
    this.family = head.family;
    this.queueRaw = host.queueRaw?.bind(host);
    if (this.queueRaw) host.arenas.open();
  }

  /** The parser of the leading events, made when the first chunk is flushed. */
  private createKeyParser(): SseParser {
    return createParser({
      // Framing finds event boundaries without decoding `data` until it is read. In raw mode
      // this parser only sees the first events (for keys); the store frames the rest.
      mode: 'framing',
      onEvent: (event) => {
        if (!this.queueRaw) {
          this.parsedEvents.push(toTapeEvent(event, this.currentOffsetMs));
        }
        if (this.firstEvents.length < KEY_SCAN_EVENTS) {
          this.firstEvents.push({ data: event.data, type: event.type });
        }
      },
      onError: (error: ParseError) => {
        // An unterminated last event stays in the raw bytes; only a limit breach is a failure.
        if (error.type === 'incomplete-event') return;
        this.host.report('RECORDER_FAILURE', error.message, error, {
          tapeId: this.spanId,
          byteOffset: error.byteOffset,
        });
      },
    });
  }

  /** Hot path: keep a copy of the chunk and its arrival time. Never throws. */
  onChunk(bytes: Uint8Array): void {
    if (this.ended || this.truncated) return;
    this.keepTail(bytes);
    const host = this.host;
    if (host.heldBytes + bytes.byteLength > host.maxBufferedBytes) {
      this.stopForBudget();
      return;
    }
    const offsetMs = Math.max(0, host.now() - this.startedAt);
    const room = host.maxTapeBytes - this.bytes;
    let length = bytes.byteLength;
    if (length > room) {
      length = room;
      this.truncated = true;
      this.host.report(
        'RECORDER_FAILURE',
        `tape ${this.spanId} reached maxTapeBytes (${this.host.maxTapeBytes}); the rest of the stream is not recorded`,
        undefined,
        { tapeId: this.spanId, byteOffset: this.host.maxTapeBytes },
      );
    }
    if (this.queueRaw) {
      // Into this flush's blocks, a new one from the pool whenever the last is full.
      const flushStart = this.blocks.length * BLOCK_BYTES + this.arenaLength;
      for (let from = 0; from < length; ) {
        if (this.arenaLength === this.arena.length) {
          if (this.arena !== NO_ARENA) this.blocks.push(this.arena);
          this.arena = this.host.arenas.acquire();
          this.arenaLength = 0;
        }
        const take = Math.min(length - from, this.arena.length - this.arenaLength);
        this.arena.set(
          take === bytes.byteLength ? bytes : bytes.subarray(from, from + take),
          this.arenaLength,
        );
        this.arenaLength += take;
        from += take;
      }
      if (this.timingsLength + 2 > this.timings.length) {
        const grown = new Float64Array(this.timings.length * 2);
        grown.set(this.timings);
        this.timings = grown;
      }
      this.timings[this.timingsLength++] = offsetMs;
      this.timings[this.timingsLength++] = length;
      if (!this.keysSettled) {
        // Where the chunk lies in this flush's bytes: the key parser reads a copy of them.
        this.keyChunkBounds.push(offsetMs, flushStart, flushStart + length);
        if (!this.keyScanRequested) {
          // Learn the keys soon, so the rest of the stream takes the plain path.
          this.keyScanRequested = true;
          this.host.requestEarlyFlush(this);
        }
      }
    } else {
      this.pendingChunks.push({ offsetMs, bytes: bytes.slice(0, length) });
    }
    this.bytes += length;
    this.pendingBytes += length;
    host.heldBytes += length;
    if (this.pendingBytes >= EARLY_FLUSH_BYTES) host.requestEarlyFlush(this);
  }

  /**
   * The recorder holds more unwritten bytes than its budget (the store is behind): rather than
   * buffer without end, this tape keeps what it has and records nothing more.
   */
  private stopForBudget(): void {
    this.truncated = true;
    this.stoppedBecause = `recording stopped at byte ${this.bytes}: the recorder held more than maxBufferedBytes (${this.host.maxBufferedBytes}) not yet written`;
    this.host.report(
      'RECORDER_FAILURE',
      `tape ${this.spanId}: the store is behind and the recorder already holds maxBufferedBytes (${this.host.maxBufferedBytes}) not yet written; the rest of this stream is not recorded`,
      undefined,
      { tapeId: this.spanId, byteOffset: this.bytes },
    );
    this.host.onDropped(this);
  }

  /** Parses what arrived since the last flush and queues the store writes. */
  flush(): void {
    const chunks = this.pendingChunks;
    if (chunks.length === 0 && this.arenaLength === 0 && this.headWritten) return;
    if (chunks.length > 0) this.pendingChunks = [];
    const bounds = this.keyChunkBounds;
    if (bounds.length > 0) this.keyChunkBounds = [];
    const pendingBytes = this.pendingBytes;
    this.pendingBytes = 0;
    if (this.failed) {
      this.host.written(pendingBytes);
      for (const block of this.blocks) this.host.arenas.release(block);
      if (this.arena !== NO_ARENA) this.host.arenas.release(this.arena);
      this.blocks = [];
      this.arena = NO_ARENA;
      this.arenaLength = 0;
      this.timingsLength = 0;
      return;
    }
    try {
      if (!this.keysSettled && chunks.length > 0) {
        this.parser ??= this.createKeyParser();
        for (const chunk of chunks) {
          this.currentOffsetMs = chunk.offsetMs;
          this.parser.feed(chunk.bytes);
        }
      } else if (!this.keysSettled && bounds.length > 0) {
        this.scanForKeys(bounds);
      }
    } catch (error) {
      this.host.report('RECORDER_FAILURE', 'parsing the stream failed', error, {
        tapeId: this.spanId,
      });
    }
    this.learnKeys();
    this.writeHeadOnce();
    this.appendParsed(chunks);
  }

  /**
   * Raw mode: feeds the key parser this flush's chunks (`[offsetMs, start, end]` in the arena)
   * until it has seen the leading events it is for. It reads private copies of at most
   * {@link KEY_SCAN_PIECE_BYTES} at a time (it may keep views of what it is fed, and the arena
   * goes back to the pool), so a big chunk is not framed, or copied, past those events.
   */
  private scanForKeys(bounds: number[]): void {
    this.parser ??= this.createKeyParser();
    const parser = this.parser;
    for (let index = 0; index < bounds.length; index += 3) {
      this.currentOffsetMs = bounds[index] as number;
      const end = bounds[index + 2] as number;
      for (let start = bounds[index + 1] as number; start < end; start += KEY_SCAN_PIECE_BYTES) {
        parser.feed(this.copyOfFlushBytes(start, Math.min(end, start + KEY_SCAN_PIECE_BYTES)));
        if (this.firstEvents.length >= KEY_SCAN_EVENTS) return;
      }
    }
  }

  /** A private copy of this flush's bytes `[start, end)`, across its blocks. */
  private copyOfFlushBytes(start: number, end: number): Uint8Array {
    const copy = new Uint8Array(end - start);
    for (let at = start; at < end; ) {
      const index = Math.floor(at / BLOCK_BYTES);
      const block = index < this.blocks.length ? this.blocks[index] : this.arena;
      const offset = at - index * BLOCK_BYTES;
      const take = Math.min(end - at, BLOCK_BYTES - offset);
      copy.set((block as Uint8Array).subarray(offset, offset + take), at - start);
      at += take;
    }
    return copy;
  }

  /** Queues an append of `chunks` and the events parsed since the last one. */
  private appendParsed(chunks: Array<{ offsetMs: number; bytes: Uint8Array }>): void {
    const queueRaw = this.queueRaw;
    if (queueRaw) {
      if (
        !this.keysSettled &&
        (this.firstEvents.length >= KEY_SCAN_EVENTS ||
          this.learnt.upstreamSpanId ||
          this.learnt.responseId)
      ) {
        this.keysSettled = true;
        // Nothing reads the key parser or its events again: let them go with the stream still
        // open, not when it ends.
        this.parser = undefined;
        this.firstEvents = [];
        this.keyEventsScanned = 0;
      }
      // A block is taken only for bytes to go in it: no bytes, no blocks.
      if (this.arenaLength === 0) return;
      const blocks = this.blocks;
      blocks.push(this.arena);
      const byteLength = (blocks.length - 1) * BLOCK_BYTES + this.arenaLength;
      const timingsLength = this.timingsLength;
      this.blocks = [];
      this.arena = NO_ARENA;
      this.arenaLength = 0;
      this.timingsLength = 0;
      // Nothing else holds the blocks: the writer thread reads them from shared memory itself,
      // joins them into one segment, and they return to the pool when that write has settled.
      // The whole tick of every stream goes to the store as one call, which copies the timings
      // out before this session writes them again.
      this.chain = queueRaw(this, blocks, byteLength, this.timings, timingsLength);
      return;
    }
    const events = this.parsedEvents;
    this.parsedEvents = [];
    if (chunks.length === 0 && events.length === 0) return;
    this.events += events.length;
    let bytes = 0;
    for (const chunk of chunks) bytes += chunk.bytes.byteLength;
    this.enqueue('append', () => this.host.store.append(this.spanId, { chunks, events }), bytes);
  }

  /**
   * Takes the store's answer to a raw append: the events it completed, or the error it failed
   * with (then the tape takes no more writes, as with any failed write).
   */
  rawWritten(written: { events: number; dropped: number } | Error): void {
    if (written instanceof Error) {
      this.writeFailed('append', written);
      return;
    }
    const { events, dropped } = written;
    this.events += events;
    if (dropped > this.droppedReported) {
      this.droppedReported = dropped;
      this.host.report(
        'RECORDER_FAILURE',
        `tape ${this.spanId}: ${dropped} event(s) over the 16 MiB event limit were not indexed; their bytes are on the tape`,
        undefined,
        { tapeId: this.spanId },
      );
    }
  }

  /**
   * True when the stream so far ends with the `[DONE]` sentinel event: a consumer that cancels
   * there (OpenRouter's SDK does) has received the whole stream.
   */
  endsWithDoneSentinel(): boolean {
    const text = new TextDecoder().decode(this.tail.subarray(0, this.tailLength));
    return DONE_SENTINEL_END.test(text);
  }

  private keepTail(bytes: Uint8Array): void {
    if (bytes.byteLength >= TAIL_BYTES) {
      // A loop rather than set(subarray(...)): no view object per chunk.
      const tail = this.tail;
      const start = bytes.byteLength - TAIL_BYTES;
      for (let index = 0; index < TAIL_BYTES; index++) tail[index] = bytes[start + index] as number;
      this.tailLength = TAIL_BYTES;
      return;
    }
    const keep = Math.min(this.tailLength, TAIL_BYTES - bytes.byteLength);
    this.tail.copyWithin(0, this.tailLength - keep, this.tailLength);
    this.tail.set(bytes, keep);
    this.tailLength = keep + bytes.byteLength;
  }

  /** Ends the recording with an outcome; safe to call more than once (the first call wins). */
  end(outcome: TapeOutcome, error?: string): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    try {
      this.parser?.end();
    } catch {}
    this.appendParsed([]);
    // The finish must reach the store after this tape's appends queued for the tick's batch.
    this.host.submitRaw();
    const durationMs = Math.max(0, this.host.now() - this.startedAt);
    if (this.stoppedBecause) outcome = 'incomplete';
    const finishError =
      this.stoppedBecause ??
      error ??
      (this.truncated ? `truncated at maxTapeBytes (${this.host.maxTapeBytes})` : undefined);
    this.enqueue('finish', () =>
      this.host.store.finish(this.spanId, {
        outcome,
        durationMs,
        ...(finishError === undefined ? {} : { error: finishError }),
        ...this.learnt,
      }),
    );
    if (this.queueRaw) this.host.arenas.close();
    this.host.onEnded(this, outcome);
  }

  private learnKeys(): void {
    // The events decide the family (they are what the server sent) until the head is written.
    if (!this.headWritten && this.head && this.firstEvents.length > 0) {
      const { method, url, body } = this.head.request;
      this.family = detectFamily({ url, method, body }, this.firstEvents);
    }
    const scanned = this.keyEventsScanned;
    if (scanned === this.firstEvents.length) return;
    this.keyEventsScanned = this.firstEvents.length;
    if (this.learnt.upstreamSpanId || this.learnt.responseId) return;
    this.learnt = learnStreamKeys(this.family, this.firstEvents.slice(scanned), this.learnt);
  }

  private writeHeadOnce(): void {
    if (this.headWritten || !this.head) return;
    this.headWritten = true;
    const head: TapeHead = { ...this.head, family: this.family };
    this.head = undefined;
    if (this.learnt.upstreamSpanId) head.upstreamSpanId = this.learnt.upstreamSpanId;
    if (this.learnt.responseId) head.responseId = this.learnt.responseId;
    if (this.learnt.model && !head.model) head.model = this.learnt.model;
    this.enqueue('put', () => this.host.store.put(head));
  }

  private writeFailed(operation: string, error: unknown): void {
    // One failed write means later ones would only fail after it (no tape, gaps in bytes).
    if (this.failed) return;
    this.failed = true;
    const detail = TapedeckError.isInstance(error) ? error.message : String(error);
    this.host.report(
      'STORE_FAILURE',
      `store.${operation} failed for tape ${this.spanId}: ${detail}`,
      error,
      { tapeId: this.spanId },
    );
  }

  /** Queues a store write; `bytes` is how much of the held bytes it carries. */
  private enqueue(operation: string, write: () => Promise<void>, bytes = 0): void {
    const attempt = async () => {
      try {
        if (this.failed) return;
        await write();
      } catch (error) {
        this.writeFailed(operation, error);
      } finally {
        if (bytes > 0) this.host.written(bytes);
      }
    };
    if (this.queueRaw) {
      // The SQLite store applies calls in the order they are made, so writes are pipelined: a
      // whole flush tick of every stream reaches its writer thread as one batch.
      // Its replies come back in order too, so the newest write settling means all have.
      this.chain = attempt();
    } else {
      // Any other store gets one call at a time per tape, in order.
      this.chain = this.chain.then(attempt);
    }
  }
}

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
import type { FinishTicked, LeadingEvent, LearnKeys, TickResult } from './internal.js';
import { type LearntKeys, learnStreamKeys } from './stream-keys.js';
import type { Tick, TickTape } from './tick-batch.js';

/**
 * How many leading events are parsed as JSON to learn the tape's keys and family. (A store that
 * frames bytes itself hands back as many, from a tape's first MiB: see `TickResult`.)
 */
const KEY_SCAN_EVENTS = 16;
/** Unflushed bytes above which a stream flushes before the interval (bounds memory). */
const EARLY_FLUSH_BYTES = 1024 * 1024;

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
   * Present when the store frames bytes itself and takes a whole flush tick of every stream in
   * one call: a session copies each chunk into it, and the tick hands the store's answer to
   * {@link TapeSession.rawWritten}.
   */
  tick?: Tick;
  /** With {@link SessionHost.tick}: the store's finish and key records for ticked tapes. */
  tickStore?: { finish: FinishTicked; learnKeys: LearnKeys };
}

/**
 * One stream being recorded. The consumer's path only calls {@link TapeSession.onChunk}, which
 * copies the chunk and returns; parsing and store writes happen in {@link TapeSession.flush}.
 *
 * With a store that frames bytes itself (the SQLite store, on its writer thread) each chunk is
 * copied into the recorder's {@link Tick} and nothing is parsed here: the store hands back the
 * tape's first events, and the session learns the tape's family and keys from them and records
 * what they said. With any other store it frames every event here and appends them with their
 * data.
 */
const TAIL_BYTES = 24;
/** `data: [DONE]` (or `data:[DONE]`) and the blank line that dispatches it, at the very end. */
const DONE_SENTINEL_END = /(?:^|[\r\n])data: ?\[DONE\](?:\r\n|\r|\n)(?:\r\n|\r|\n)$/;

export class TapeSession implements TickTape {
  readonly spanId: string;
  tickGeneration = -1;
  tickIndex = 0;
  ended = false;
  /** Settles when every write issued so far has settled. */
  chain: Promise<void> = Promise.resolve();
  bytes = 0;
  events = 0;

  /** Until the head is written (undefined once it is): after that only its start time is needed. */
  private head: TapeHead | undefined;
  private readonly startedAt: number;
  private readonly host: SessionHost;
  /** Without a tick: the parser of the stream's events. */
  private parser: SseParser | undefined;
  /** Why recording stopped before the stream ended, for the finish record. */
  private stoppedBecause: string | undefined;
  /** Chunks not yet flushed (without a tick). */
  private pendingChunks: Array<{ offsetMs: number; bytes: Uint8Array }> = [];
  private pendingBytes = 0;
  private parsedEvents: TapeEvent[] = [];
  private firstEvents: Array<{ data: string; type: string }> = [];
  /** How many of {@link firstEvents} have been scanned for keys. */
  private keyEventsScanned = 0;
  /** Set when the store frames events itself: this tape's bytes go into the recorder's ticks. */
  private readonly tick: Tick | undefined;
  /** What the family is told from, besides the events (the request as recorded). */
  private request: { url: string; method: string; body?: string | null } | undefined;
  /** With a tick: the family and keys last sent to the store. */
  private stored = '';
  /** With a tick: false once the store hands back no more leading events. */
  private leadingOpen = true;
  private droppedReported = 0;
  /** The stream's last few bytes, to tell a cancel after `[DONE]` from one mid-stream. */
  private tail = new Uint8Array(TAIL_BYTES);
  private tailLength = 0;
  private currentOffsetMs = 0;
  private learnt: LearntKeys = {};
  private family: StreamFamily;
  private failed = false;
  private truncated = false;

  constructor(head: TapeHead, host: SessionHost) {
    this.head = head;
    this.startedAt = head.startedAt;
    this.host = host;
    this.spanId = head.spanId;
    this.family = head.family;
    this.tick = host.tick;
    this.tick?.open();
    const { url, method, body } = head.request;
    this.request = { url, method, body };
  }

  /** The parser of the stream's events (without a tick), made when the first chunk is flushed. */
  private createEventParser(): SseParser {
    return createParser({
      // Framing finds event boundaries without decoding `data` until it is read.
      mode: 'framing',
      onEvent: (event) => {
        this.parsedEvents.push(toTapeEvent(event, this.currentOffsetMs));
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
    if (this.tick) {
      if (!this.failed) {
        this.tick.add(this, bytes, length, offsetMs);
        host.heldBytes += length;
      }
      this.bytes += length;
      return;
    }
    this.pendingChunks.push({ offsetMs, bytes: bytes.slice(0, length) });
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
    if (chunks.length === 0 && !this.head) return;
    if (chunks.length > 0) this.pendingChunks = [];
    const pendingBytes = this.pendingBytes;
    this.pendingBytes = 0;
    if (this.failed) {
      this.host.written(pendingBytes);
      return;
    }
    try {
      if (chunks.length > 0) {
        this.parser ??= this.createEventParser();
        for (const chunk of chunks) {
          this.currentOffsetMs = chunk.offsetMs;
          this.parser.feed(chunk.bytes);
        }
      }
    } catch (error) {
      this.host.report('RECORDER_FAILURE', 'parsing the stream failed', error, {
        tapeId: this.spanId,
      });
    }
    this.learnKeys();
    this.writeHeadOnce();
    this.appendParsed(chunks, pendingBytes);
  }

  /** A tick carrying this tape's bytes is about to go to the store: the head goes first. */
  beforeTick(): void {
    if (this.head) this.flush();
  }

  /** Queues an append of `chunks` (`bytes` long) and the events parsed since the last one. */
  private appendParsed(
    chunks: Array<{ offsetMs: number; bytes: Uint8Array }>,
    bytes: number,
  ): void {
    // With a tick the bytes are in the tick already.
    if (this.tick) return;
    const events = this.parsedEvents;
    this.parsedEvents = [];
    if (chunks.length === 0 && events.length === 0) return;
    this.events += events.length;
    this.enqueue('append', () => this.host.store.append(this.spanId, { chunks, events }), bytes);
  }

  /**
   * Takes the store's answer to a raw append: the events it completed and, while the tape is
   * young, its first events (the family and keys are learnt from them and recorded), or the
   * error it failed with (then the tape takes no more writes, as with any failed write).
   */
  rawWritten(written: TickResult | Error): void {
    if (written instanceof Error) {
      this.writeFailed('append', written);
      return;
    }
    if (written.leading) {
      this.learnLeading(written.leading);
      // Once the stream has ended, its finish records them (see `end`).
      const update = this.ended ? undefined : this.keysUpdate();
      if (update) this.enqueue('learn', update);
    }
    if (written.leadingDone) {
      // No more leading events come, so family and keys are settled: let go of the events and
      // of the request they were read with while the stream is still open, not when it ends.
      this.leadingOpen = false;
      this.firstEvents = [];
      this.keyEventsScanned = 0;
      this.request = undefined;
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
    // The end may dispatch one last event (a blank line ending in CR): its keys count too.
    this.learnKeys();
    this.appendParsed([], 0);
    const durationMs = Math.max(0, this.host.now() - this.startedAt);
    if (this.stoppedBecause) outcome = 'incomplete';
    const finishError =
      this.stoppedBecause ??
      error ??
      (this.truncated ? `truncated at maxTapeBytes (${this.host.maxTapeBytes})` : undefined);
    const finish = () => ({
      outcome,
      durationMs,
      ...(finishError === undefined ? {} : { error: finishError }),
      ...this.learnt,
    });
    const tick = this.tick;
    const tickStore = this.host.tickStore;
    if (tick && tickStore) {
      // The finish goes behind the next tick, which carries this tape's last bytes.
      let settle!: () => void;
      this.chain = new Promise((resolve) => {
        settle = resolve;
      });
      tick.behindNext(this, (ticked) => {
        // That tick's answer may still bring leading events: the finish then records what they
        // said, so it waits for it. Once none can come, the finish goes with that tick.
        const mayLearnMore = this.leadingOpen;
        try {
          this.enqueue('finish', async () => {
            if (mayLearnMore) {
              await ticked;
              // That answer may have been a failure: a failed tape takes no more writes.
              if (this.failed) return;
            }
            // The finish records the family and keys learnt so far.
            this.stored = this.keysText();
            const answer = await tickStore.finish(this.spanId, {
              ...finish(),
              family: this.family,
            });
            // A last event only the end dispatched (a blank line ending in CR) counts too.
            if (answer?.leading) {
              this.learnLeading(answer.leading);
              await this.keysUpdate()?.();
            }
          });
        } finally {
          // The recorder's flush waits for this tape's chain: it must settle whatever happened.
          void this.chain.then(settle);
        }
      });
    } else {
      this.enqueue('finish', () => this.host.store.finish(this.spanId, finish()));
    }
    this.tick?.close();
    this.host.onEnded(this, outcome);
  }

  /** With a tick: the first events of the tape, as the store framed them. */
  private learnLeading(events: LeadingEvent[]): void {
    for (const event of events) {
      if (this.firstEvents.length < KEY_SCAN_EVENTS) this.firstEvents.push(event);
    }
    this.learnKeys();
  }

  private learnKeys(): void {
    // The events decide the family (they are what the server sent): until the head is written,
    // or, with a tick, at any time (the store is told; see `keysUpdate`).
    const scanned = this.keyEventsScanned;
    if (scanned === this.firstEvents.length) return;
    this.keyEventsScanned = this.firstEvents.length;
    if ((this.head || this.tick) && this.request) {
      this.family = detectFamily(this.request, this.firstEvents);
    }
    if (this.learnt.upstreamSpanId || this.learnt.responseId) return;
    this.learnt = learnStreamKeys(this.family, this.firstEvents.slice(scanned), this.learnt);
  }

  private writeHeadOnce(): void {
    if (!this.head) return;
    const head: TapeHead = { ...this.head, family: this.family };
    this.head = undefined;
    if (this.learnt.upstreamSpanId) head.upstreamSpanId = this.learnt.upstreamSpanId;
    if (this.learnt.responseId) head.responseId = this.learnt.responseId;
    if (this.learnt.model && !head.model) head.model = this.learnt.model;
    if (this.tick) this.stored = this.keysText();
    this.enqueue('put', () => this.host.store.put(head));
  }

  private keysText(): string {
    const { upstreamSpanId, responseId, model } = this.learnt;
    return JSON.stringify([this.family, upstreamSpanId, responseId, model]);
  }

  /**
   * With a tick: when the family or keys changed since the store last heard of them (the head,
   * or an earlier update), the write that tells it; otherwise undefined.
   */
  private keysUpdate(): (() => Promise<void>) | undefined {
    const tickStore = this.host.tickStore;
    if (!tickStore || this.head) return undefined;
    const text = this.keysText();
    if (text === this.stored) return undefined;
    this.stored = text;
    const keys = { family: this.family, ...this.learnt };
    return () => tickStore.learnKeys(this.spanId, keys);
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
    if (this.tick) {
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

import type { StreamFamily, TapeFinish } from '@tapedeck/types';

/**
 * An optional store method taking one flush tick of every stream being recorded in one call (the
 * SQLite store sends it to its writer thread as one operation, its buffers transferred): a tick
 * costs one promise and a few buffers, not a few of each per stream.
 */
export const APPEND_TICK: unique symbol = Symbol.for('tapedeck.recorder.append-tick');

/**
 * One flush tick: every chunk recorded since the last one, of every tape, in arrival order.
 * `chunks` holds `[tape, offsetMs, byteLength]` per chunk, `tape` an index into `spanIds`; the
 * chunks' bytes lie end to end across `arenas`, in the first `arenaLengths[i]` bytes of each (a
 * chunk may run on from one arena into the next).
 */
export interface TickBatch {
  spanIds: string[];
  arenas: ArrayBuffer[];
  arenaLengths: number[];
  chunks: Float64Array<ArrayBuffer>;
}

/**
 * The signature of {@link APPEND_TICK}. The store takes the batch's buffers over (the SQLite
 * store transfers them) and resolves with one result per tape, in order (how many events its
 * bytes completed and how many were dropped for size so far, or the error its append failed
 * with), and the arenas, handed back for reuse.
 */
export type AppendTick = (batch: TickBatch) => Promise<{
  results: Array<TickResult | Error>;
  arenas: ArrayBuffer[];
}>;

/** An event's type and data, as the store frames it. */
export interface LeadingEvent {
  type: string;
  data: string;
}

/**
 * A store's answer for one tape's part of a tick: how many events its bytes completed, how many
 * were dropped for size so far, and, while the tape is young, its first events that completed
 * (at most 16 in all, within its first MiB), to learn its family and keys from.
 */
export interface TickResult {
  events: number;
  dropped: number;
  leading?: LeadingEvent[];
  /** True once the store hands back no more leading events for this tape. */
  leadingDone?: boolean;
}

/**
 * A store method that goes with {@link APPEND_TICK} (the recorder uses ticks only with a store
 * that has all three: it learns a tape's family and keys from what the ticks' answers hand back,
 * and records them through {@link LEARN_KEYS}): `finish`, which also records the family the
 * tape's events decided, resolving with the tape's leading events that only the end of the
 * stream completed (a blank line ending in CR).
 */
export const FINISH_TICKED: unique symbol = Symbol.for('tapedeck.recorder.finish-ticked');
export type FinishTicked = (
  spanId: string,
  finish: TapeFinish & { family?: StreamFamily },
) => Promise<{ leading?: LeadingEvent[] } | undefined>;

/**
 * A store method that goes with {@link APPEND_TICK} and {@link FINISH_TICKED}: records the family
 * and keys a tape's leading events revealed after its head was written (keys as `finish` takes
 * them).
 */
export const LEARN_KEYS: unique symbol = Symbol.for('tapedeck.recorder.learn-keys');
export type LearnKeys = (
  spanId: string,
  keys: { family: StreamFamily; upstreamSpanId?: string; responseId?: string; model?: string },
) => Promise<void>;

/** The three tick methods, which a store has together or not at all. */
export interface TickStore {
  [APPEND_TICK]: AppendTick;
  [FINISH_TICKED]: FinishTicked;
  [LEARN_KEYS]: LearnKeys;
}

/** `store`'s tick methods bound to it when it has all three (the recorder ticks only then). */
export function tickMethodsOf(
  store: object,
): { appendTick: AppendTick; finish: FinishTicked; learnKeys: LearnKeys } | undefined {
  const methods = store as Partial<TickStore>;
  const appendTick = methods[APPEND_TICK];
  const finish = methods[FINISH_TICKED];
  const learnKeys = methods[LEARN_KEYS];
  if (!appendTick || !finish || !learnKeys) return undefined;
  return {
    appendTick: appendTick.bind(store),
    finish: finish.bind(store),
    learnKeys: learnKeys.bind(store),
  };
}

/**
 * Events packed for a cheap trip to the writer thread: per event, six numbers (index, offsetMs,
 * byteStart, byteEnd, retry or -1, 1 when `data` is included) and three string lengths (type,
 * id, data); the strings concatenated in that order.
 */
export interface PackedEvents {
  count: number;
  numbers: Float64Array<ArrayBuffer>;
  lengths: Uint32Array<ArrayBuffer>;
  text: string;
}

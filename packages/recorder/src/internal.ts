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
  results: Array<{ events: number; dropped: number } | Error>;
  arenas: ArrayBuffer[];
}>;

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

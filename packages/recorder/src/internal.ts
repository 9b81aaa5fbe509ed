/**
 * An optional store method taking only bytes: the store finds the events itself, on its own
 * thread (the SQLite store frames them in its writer thread). Resolves with how many events the
 * bytes completed and how many were dropped for size so far.
 */
export const APPEND_RAW: unique symbol = Symbol.for('tapedeck.recorder.append-raw');

/**
 * The signature of {@link APPEND_RAW}: chunks, or one segment of joined bytes with
 * `[offsetMs, byteLength]` pairs in `timings`, which the store may take over (`owned`). A
 * segment in shared memory is never owned: the caller reuses it once the returned promise
 * settles, and the store must not keep a view of it past then.
 */
export type AppendRaw = (
  spanId: string,
  data:
    | { chunks: Array<{ offsetMs: number; bytes: Uint8Array }> }
    | {
        segment: { bytes: Uint8Array<ArrayBuffer>; timings: Float64Array<ArrayBuffer> };
        owned: boolean;
      }
    | {
        segment: { bytes: Uint8Array<SharedArrayBuffer>; timings: Float64Array<ArrayBuffer> };
        owned: false;
      },
) => Promise<{ events: number; dropped: number }>;

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
 * store transfers them) and resolves with one result per tape, in order (what {@link AppendRaw}
 * resolves with, or the error that tape's append failed with), and the arenas, handed back for
 * reuse.
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

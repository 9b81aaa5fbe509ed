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
 * An optional store method appending one raw segment to each of several tapes in one call (the
 * SQLite store sends them to its writer thread as one operation): the recorder hands a whole
 * flush tick of every stream over at once, so a tick costs one promise, not a few per stream.
 */
export const APPEND_RAW_MANY: unique symbol = Symbol.for('tapedeck.recorder.append-raw-many');

/**
 * The signature of {@link APPEND_RAW_MANY}, in parallel arrays with one entry per tape: its
 * segment is `byteLengths[i]` bytes held in the next `blockCounts[i]` of `blocks` (every block
 * full but the last; a chunk may continue from one block into the next), its chunks the next
 * `timingCounts[i]` numbers of `timings` (`[offsetMs, byteLength]` pairs, in order). Blocks may
 * be views of shared memory the caller reuses once the returned promise settles. Resolves with
 * one result per tape, in order: what {@link AppendRaw} resolves with, or the error that append
 * failed with.
 */
export type AppendRawMany = (
  spanIds: string[],
  blocks: Uint8Array[],
  blockCounts: number[],
  byteLengths: number[],
  timings: Float64Array<ArrayBuffer>,
  timingCounts: number[],
) => Promise<Array<{ events: number; dropped: number } | Error>>;

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

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
 * segment is the first `byteLengths[i]` bytes of `segments[i]`, its chunks the next
 * `timingCounts[i]` numbers of `timings` (`[offsetMs, byteLength]` pairs, every tape's in
 * order). Segments may be views of shared memory the caller reuses once the returned promise
 * settles. Resolves with one result per tape, in order: what {@link AppendRaw} resolves with,
 * or the error that append failed with.
 */
export type AppendRawMany = (
  spanIds: string[],
  segments: Uint8Array[],
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

/** Builds {@link PackedEvents} one event at a time, in typed arrays that grow by doubling. */
export class EventPacker {
  private numbers = new Float64Array(6 * 64);
  private lengths = new Uint32Array(3 * 64);
  private parts: string[] = [];
  count = 0;

  add(
    index: number,
    offsetMs: number,
    byteStart: number,
    byteEnd: number,
    type: string,
    id: string,
    retry: number | undefined,
    data: string | undefined,
  ): void {
    if ((this.count + 1) * 6 > this.numbers.length) {
      const numbers = new Float64Array(this.numbers.length * 2);
      numbers.set(this.numbers);
      this.numbers = numbers;
      const lengths = new Uint32Array(this.lengths.length * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    const n = this.count * 6;
    const numbers = this.numbers;
    numbers[n] = index;
    numbers[n + 1] = offsetMs;
    numbers[n + 2] = byteStart;
    numbers[n + 3] = byteEnd;
    numbers[n + 4] = retry ?? -1;
    numbers[n + 5] = data === undefined ? 0 : 1;
    const l = this.count * 3;
    this.lengths[l] = type.length;
    this.lengths[l + 1] = id.length;
    this.lengths[l + 2] = data?.length ?? 0;
    this.parts.push(type, id);
    if (data !== undefined) this.parts.push(data);
    this.count += 1;
  }

  /** Returns what was added and starts over. */
  take(): PackedEvents {
    const packed = {
      count: this.count,
      numbers: this.numbers.slice(0, this.count * 6),
      lengths: this.lengths.slice(0, this.count * 3),
      text: this.parts.join(''),
    };
    this.parts = [];
    this.count = 0;
    return packed;
  }
}

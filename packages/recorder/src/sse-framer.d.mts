// Types for sse-framer.mjs (plain JavaScript so the writer worker can load it on Node 20).

/** One event boundary, without its data. */
export interface FramedEvent {
  index: number;
  offsetMs: number;
  byteStart: number;
  byteEnd: number;
  type: string;
  id: string;
  retry?: number;
}

/** Events as one event_batches row of the SQLite store holds them (encoding 2). */
export interface CompactEvents {
  count: number;
  /** The index of the first event; the others follow one by one. */
  firstIndex: number;
  /** Per event: offsetMs, byteStart. */
  places: Float64Array;
  /** Per event: byteEnd - byteStart, type index, id index. */
  sizes: Uint32Array;
  /** JSON `[types, ids, [[position, retry], ...]]`. */
  strings: string;
}

/** Same default as @tapedeck/sse. */
export declare const FRAMER_MAX_EVENT_BYTES: number;

/** An incremental SSE framer that finds events without decoding their data. */
export interface Framer {
  feed(chunk: Uint8Array, offsetMs: number): FramedEvent[];
  /** Like `feed`, but the completed events wait for the next `take` or `feed`. */
  add(chunk: Uint8Array, offsetMs: number): void;
  end(offsetMs: number): FramedEvent[];
  /** Like `end`, but the completed events wait for the next take. */
  close(offsetMs: number): void;
  take(): FramedEvent[];
  /** The completed events in the SQLite store's compact encoding; the arrays are the caller's. */
  takeCompact(): CompactEvents;
  dropped(): number;
}

/** Creates an incremental SSE framer (same boundaries as @tapedeck/sse's createParser). */
export declare function createFramer(options?: { maxEventBytes?: number }): Framer;

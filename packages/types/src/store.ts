import type { StreamFamily, Tape, TapeEvent, TapeOutcome, TapeState, TapeSummary } from './tape.js';

/** What a writer knows when a stream starts: a tape with no bytes yet. */
export type TapeHead = Omit<
  TapeSummary,
  'eventCount' | 'byteLength' | 'firstEventMs' | 'durationMs' | 'outcome' | 'error'
>;

/** Bytes and events that arrived since the last append. */
export interface TapeAppend {
  /** Network chunks in arrival order; their bytes are appended to `raw`. */
  chunks: Array<{ offsetMs: number; bytes: Uint8Array }>;
  /** Events completed by these (or earlier) chunks, with absolute byte ranges. */
  events: TapeEvent[];
}

/** How a stream ended, plus keys learnt from its events. */
export interface TapeFinish {
  outcome: TapeOutcome;
  error?: string;
  durationMs: number;
  upstreamSpanId?: string;
  responseId?: string;
  model?: string;
}

/** Filters for {@link TapeStore.list}. All are optional and combine with AND. */
export interface TapeListQuery {
  family?: StreamFamily;
  outcome?: TapeState;
  /** Epoch ms: tapes started at or after. */
  since?: number;
  /** Epoch ms: tapes started before. */
  until?: number;
  urlContains?: string;
  requestHash?: string;
  /** At most this many (default 100). */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
  /** `desc` (newest first, default) or `asc` (recorded order). */
  order?: 'asc' | 'desc';
}

/** Counts over the whole store. */
export interface TapeStoreStats {
  tapes: number;
  events: number;
  bytes: number;
  byOutcome: Partial<Record<TapeState, number>>;
  byFamily: Partial<Record<StreamFamily, number>>;
  oldestStartedAt?: number;
  newestStartedAt?: number;
}

/**
 * Where tapes live. Writers call `put` when a stream starts, `append` as it arrives and
 * `finish` when it ends; readers look tapes up by spanId, upstream span id or response id.
 * Every method is async so a store may do its I/O off the caller's thread.
 */
export interface TapeStore {
  /** Creates a tape (or replaces one with the same spanId). A `Tape` with bytes is imported whole. */
  put(tape: TapeHead | Tape): Promise<void>;
  append(spanId: string, data: TapeAppend): Promise<void>;
  finish(spanId: string, finish: TapeFinish): Promise<void>;
  /** By spanId, upstream span id (Opper `span_id`) or response id. */
  get(id: string): Promise<Tape | undefined>;
  list(query?: TapeListQuery): Promise<{ tapes: TapeSummary[]; nextCursor?: string }>;
  /** By spanId, upstream span id or response id; true when a tape was deleted. */
  delete(id: string): Promise<boolean>;
  /** Deletes tapes started before `olderThan` (epoch ms); returns how many. */
  prune(options: { olderThan: number }): Promise<number>;
  stats(): Promise<TapeStoreStats>;
  close(): Promise<void>;
}

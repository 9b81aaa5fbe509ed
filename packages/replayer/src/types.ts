import type { RecorderOptions } from '@tapedeck/recorder';
import type { Tape, TapeStore, TapeSummary } from '@tapedeck/types';

/**
 * How a replayed stream is paced.
 * - `'instant'` (default): every chunk as fast as the client reads.
 * - `'recorded'`: each chunk at its recorded offset from the start of the response.
 * - `{speed}`: recorded offsets divided by `speed` (2 = twice as fast).
 * `maxGapMs` clamps any pause between two chunks (after `speed` is applied).
 */
export type ReplayTiming =
  | 'instant'
  | 'recorded'
  | { speed?: number; maxGapMs?: number }
  | { mode: 'instant' | 'recorded'; speed?: number; maxGapMs?: number };

/**
 * Where the replayed body is cut into chunks.
 * - `'recorded'` (default): the original network chunk boundaries.
 * - `'event'`: one SSE event per chunk.
 * - `{split: 'random', seed}`: random byte positions from a seeded PRNG, deliberately landing
 *   inside CRLF pairs and multi-byte UTF-8 characters; `maxChunkBytes` bounds a chunk.
 */
export type ReplayChunking =
  | 'recorded'
  | 'event'
  | { split: 'random'; seed: number; maxChunkBytes?: number };

/** Ends the connection abruptly: the client's body read fails with a network error. */
export interface CutFault {
  type: 'cut';
  /** Cut after this many SSE events were sent. */
  afterEvents?: number;
  /** Cut after this many bytes were sent. */
  afterBytes?: number;
}

/** Pauses the stream after an event, before the rest is sent. */
export interface StallFault {
  type: 'stall';
  /** Pause after this many events were sent. */
  afterEvents: number;
  durationMs: number;
}

/**
 * Replaces the rest of the stream with the family's own error event: OpenResponses `error`
 * (or `response.failed` with `as: 'response.failed'`), Opper `chunk_type: error`, chat-completions
 * `error`. The stream then ends normally, as real providers do.
 */
export interface ErrorEventFault {
  type: 'error-event';
  /** Send the error after this many events (default: all of them). */
  afterEvents?: number;
  /** The provider's error code / Opper `error_type` (default `server_error`). */
  code?: string;
  message?: string;
  /** OpenResponses only: which event carries the error (default `error`). */
  as?: 'error' | 'response.failed';
}

/** Answers with this status and a JSON error body instead of the stream. */
export interface StatusFault {
  type: 'status';
  status: number;
  /** Sent as `retry-after` (seconds); 429 defaults to 0 so clients retry at once. */
  retryAfterSeconds?: number;
  message?: string;
}

/** Holds the first byte back for this long. */
export interface FirstByteDelayFault {
  type: 'first-byte-delay';
  delayMs: number;
}

/** One fault applied to a recorded stream. */
export type ReplayFault =
  | CutFault
  | StallFault
  | ErrorEventFault
  | StatusFault
  | FirstByteDelayFault;

/**
 * Faults for every replay, or `{sequence}`: the n-th request that matches a tape gets the n-th
 * step (`'ok'` = the tape unchanged); once the sequence is used up, requests get the tape
 * unchanged. A step may combine several faults.
 */
export type ReplayFaults =
  | ReplayFault
  | ReplayFault[]
  | { sequence: Array<ReplayFault | ReplayFault[] | 'ok'> };

/** The parts of a request that matching looks at, as seen by user functions. */
export interface MatchableRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The body as text, null when there was none. */
  body: string | null;
}

/**
 * Which parts of a request must equal a tape's for it to match (Polly-style). Each part is a
 * boolean or a function that maps the part to the value compared.
 */
export interface MatchRequestsBy {
  /** Default true. */
  method?: boolean | ((method: string) => unknown);
  /** Default true: origin + path with the query sorted; a function receives a `URL`. */
  url?: boolean | ((url: URL) => unknown);
  /**
   * Default true: the body as canonical JSON (keys sorted) without the ignored fields; a
   * non-JSON body compares as text. A function receives the parsed body (or text).
   */
  body?: boolean | ((body: unknown) => unknown);
  /**
   * Default false. `true` compares every header except volatile ones (authorization, cookies,
   * user agent, SDK telemetry, tracing); a list compares only those names.
   */
  headers?: boolean | string[] | ((headers: Record<string, string>) => unknown);
  /**
   * Body fields left out of matching, as dotted paths (`metadata.trace_id`), added to
   * {@link DEFAULT_IGNORED_BODY_FIELDS}.
   */
  ignoreBodyFields?: string[];
}

/** What `onUnmatched` receives when no tape matches a request. */
export interface ReplayMiss {
  request: MatchableRequest;
  /** The `[tapedeck] …` explanation: the request, the closest tapes and what differs. */
  message: string;
  /** The closest tapes, best first, with their differences. */
  closest: Array<{ tape: TapeSummary; differences: string[] }>;
}

/** What to do when no tape matches a request. */
export type OnUnmatched =
  | 'error'
  | 'warn'
  | 'bypass'
  | ((miss: ReplayMiss) => Response | undefined | Promise<Response | undefined>);

/** Polly-style modes. */
export type ReplayMode = 'replay' | 'record' | 'auto' | 'passthrough';

/** Injected time, for tests and for fake clocks. */
export interface ReplayInternal {
  /** Monotonic milliseconds (default `performance.now()`). */
  now?: () => number;
  /** Resolves after `ms`; must reject or resolve early when `signal` aborts (default setTimeout). */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Options of {@link createReplayHandlers}. */
export interface ReplayOptions {
  store: TapeStore;
  matchRequestsBy?: MatchRequestsBy;
  /** Same-key tapes replay in recorded order (`'sequential'`, default) or newest only. */
  order?: 'sequential' | 'latest';
  onUnmatched?: OnUnmatched;
  timing?: ReplayTiming;
  chunking?: ReplayChunking;
  faults?: ReplayFaults;
  /** Default: `TAPEDECK_MODE`, else `'replay'` (always `'replay'` under `CI`). */
  mode?: ReplayMode;
  /** Recorder options for `record` and `auto` modes (redaction, `beforePersist`, `onError`…). */
  recorder?: Omit<RecorderOptions, 'store'>;
  /** Only requests this returns true for are handled (default: every request). */
  filter?: (request: Request) => boolean;
  _internal?: ReplayInternal;
}

/** What a replay stream is built from. */
export interface ReplayStreamOptions {
  tape: Tape;
  timing?: ReplayTiming;
  chunking?: ReplayChunking;
  faults?: ReplayFault[];
  /** Aborting it errors the stream with the signal's reason, like a real fetch. */
  signal?: AbortSignal;
  _internal?: ReplayInternal;
}

import { z } from 'zod';

/** The stream families tapedeck knows; `sse` is any other event stream. */
export const streamFamilySchema = z.enum(['opper', 'openresponses', 'chat-completions', 'sse']);
/** The stream families tapedeck knows; `sse` is any other event stream. */
export type StreamFamily = z.infer<typeof streamFamilySchema>;

/**
 * How a recorded stream ended.
 * - `complete`: the upstream closed the stream normally.
 * - `aborted`: the consumer cancelled or aborted mid-stream.
 * - `upstream-error`: the upstream connection failed mid-stream.
 * - `http-error`: the upstream answered with a non-2xx status.
 * - `incomplete`: the recording process died; the tape keeps what was flushed.
 */
export const tapeOutcomeSchema = z.enum([
  'complete',
  'aborted',
  'upstream-error',
  'http-error',
  'incomplete',
]);
/** How a recorded stream ended. */
export type TapeOutcome = z.infer<typeof tapeOutcomeSchema>;

/** A tape's state: still being written (`recording`) or one of the final outcomes. */
export const tapeStateSchema = z.union([z.literal('recording'), tapeOutcomeSchema]);
/** A tape's state: still being written (`recording`) or one of the final outcomes. */
export type TapeState = z.infer<typeof tapeStateSchema>;

/** W3C trace-context span id: 16 lower-case hex digits, not all zero. */
export const spanIdSchema = z
  .string()
  .regex(/^(?!0{16})[0-9a-f]{16}$/, 'a span id is 16 lower-case hex digits, not all zero');
/** W3C trace-context trace id: 32 lower-case hex digits, not all zero. */
export const traceIdSchema = z
  .string()
  .regex(/^(?!0{32})[0-9a-f]{32}$/, 'a trace id is 32 lower-case hex digits, not all zero');

const headersSchema = z.record(z.string(), z.string());

/** The request that opened a stream. Headers and URL are already redacted. */
export const tapeRequestSchema = z.object({
  method: z.string(),
  url: z.string(),
  headers: headersSchema,
  /** The request body as text (usually JSON), redacted; null when there was none. */
  body: z.string().nullable(),
});
/** The request that opened a stream. */
export type TapeRequest = z.infer<typeof tapeRequestSchema>;

/** The response head. */
export const tapeResponseSchema = z.object({
  status: z.number().int(),
  statusText: z.string(),
  headers: headersSchema,
});
/** The response head. */
export type TapeResponse = z.infer<typeof tapeResponseSchema>;

/** One network chunk as it arrived. Its bytes are `raw[byteStart, byteStart + byteLength)`. */
export const tapeChunkSchema = z.object({
  /** Milliseconds from `startedAt` to the chunk's arrival. */
  offsetMs: z.number().nonnegative(),
  byteLength: z.number().int().nonnegative(),
});
/** One network chunk as it arrived. */
export type TapeChunk = z.infer<typeof tapeChunkSchema>;

/**
 * One dispatched SSE event. `raw.subarray(byteStart, byteEnd)` is its exact text, through
 * the blank line that dispatched it; the other fields are parsed from those bytes.
 */
export const tapeEventSchema = z.object({
  index: z.number().int().nonnegative(),
  /** Milliseconds from `startedAt` to the arrival of the chunk that completed the event. */
  offsetMs: z.number().nonnegative(),
  byteStart: z.number().int().nonnegative(),
  byteEnd: z.number().int().nonnegative(),
  /** The SSE event type (`message` unless an `event:` line set it). */
  type: z.string(),
  /** The last event id in force when it was dispatched ('' for none). */
  id: z.string(),
  /** The joined `data` lines. */
  data: z.string(),
  retry: z.number().int().nonnegative().optional(),
});
/** One dispatched SSE event. */
export type TapeEvent = z.infer<typeof tapeEventSchema>;

/**
 * A tape event from a parsed (or stored) event and when it arrived, field by field: the source
 * may be a parser's event with more fields, or compute `data` in a getter (read here, once).
 */
export function toTapeEvent(
  event: Pick<TapeEvent, 'index' | 'byteStart' | 'byteEnd' | 'type' | 'id' | 'data' | 'retry'>,
  offsetMs: number,
): TapeEvent {
  return {
    index: event.index,
    offsetMs,
    byteStart: event.byteStart,
    byteEnd: event.byteEnd,
    type: event.type,
    id: event.id,
    data: event.data,
    ...(event.retry === undefined ? {} : { retry: event.retry }),
  };
}

/** Version of the Tape shape; stores and export files carry it. */
export const TAPE_SCHEMA_VERSION = 1;

/** Everything about a tape except its bytes, chunks and events: what `list` returns. */
export const tapeSummarySchema = z.object({
  schemaVersion: z.literal(TAPE_SCHEMA_VERSION),
  /** Primary key: the OpenTelemetry span id of the stream's span. */
  spanId: spanIdSchema,
  traceId: traceIdSchema,
  /** The provider's own span id (Opper's `span_id`), when it sent one. */
  upstreamSpanId: z.string().optional(),
  /** The provider's response id (OpenResponses `response.id`, chat `id`), when it sent one. */
  responseId: z.string().optional(),
  family: streamFamilySchema,
  /** The model the request asked for, or the response named. */
  model: z.string().optional(),
  request: tapeRequestSchema,
  /** Hash of the canonical request (method, URL, body) used for matching. */
  requestHash: z.string(),
  response: tapeResponseSchema,
  /** Epoch milliseconds when the request was sent. */
  startedAt: z.number(),
  /** Milliseconds from `startedAt` to the end of the stream; absent while recording. */
  durationMs: z.number().nonnegative().optional(),
  outcome: tapeStateSchema,
  /** What went wrong, for every outcome but `complete`. */
  error: z.string().optional(),
  eventCount: z.number().int().nonnegative(),
  byteLength: z.number().int().nonnegative(),
  /** Milliseconds from `startedAt` to the first event. */
  firstEventMs: z.number().nonnegative().optional(),
  /** Free-form labels (test name, environment). */
  tags: z.record(z.string(), z.string()).optional(),
});
/** Everything about a tape except its bytes, chunks and events. */
export type TapeSummary = z.infer<typeof tapeSummarySchema>;

/**
 * A recorded stream. `raw` is the source of truth; `events` are derivable from it.
 * Chunks tile `raw` in order: chunk `i` starts where chunk `i - 1` ended.
 */
export const tapeSchema = tapeSummarySchema.extend({
  raw: z.instanceof(Uint8Array),
  chunks: z.array(tapeChunkSchema),
  events: z.array(tapeEventSchema),
});
/** A recorded stream. */
export type Tape = z.infer<typeof tapeSchema>;

import { z } from 'zod';
import { sseEventSchema } from './sse-event.js';

/** What an Opper chunk is: plain text, a piece of structured output, or an error. */
export const opperChunkTypeSchema = z.enum(['text', 'json', 'error']);
/** What an Opper chunk is: plain text, a piece of structured output, or an error. */
export type OpperChunkType = z.infer<typeof opperChunkTypeSchema>;

/**
 * One chunk of an Opper function stream (`POST /v2/call/stream`), as on the wire (snake_case).
 * Every field is optional and nullable. The first chunk usually carries only `span_id`.
 *
 * The object is strict: a chunk with a field Opper did not document, or an unknown
 * `chunk_type`, does not validate here, and `parseEventData` reports it as an unknown (but
 * kept) chunk.
 */
export const opperChunkSchema = z.strictObject({
  /** The next piece of output: text, or a JSON scalar for structured output. */
  delta: z.union([z.string(), z.number(), z.boolean()]).nullish(),
  /** Where a structured-output delta belongs, e.g. `people[0].name`. */
  json_path: z.string().nullish(),
  /** Opper's trace span id for the call (a UUID), sent in the first chunk. */
  span_id: z.string().nullish(),
  chunk_type: opperChunkTypeSchema.nullish(),
  /** With `chunk_type: "error"`: the error's class, e.g. `ModelError`. */
  error_type: z.string().nullish(),
  /** With `chunk_type: "error"`: what went wrong. */
  error_message: z.string().nullish(),
});
/** One chunk of an Opper function stream. */
export type OpperChunk = z.infer<typeof opperChunkSchema>;

/** One SSE event of an Opper function stream, its `data` parsed as an {@link OpperChunk}. */
export const opperStreamEventSchema = sseEventSchema(opperChunkSchema);
/** One SSE event of an Opper function stream. */
export type OpperStreamEvent = z.infer<typeof opperStreamEventSchema>;

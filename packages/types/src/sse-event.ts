import { z } from 'zod';

/**
 * Builds the schema of one Server-Sent Event whose `data` has been parsed with `dataSchema`:
 * `{id?, event?, data, retry?}` as in the SSE specification (`retry` is whole milliseconds).
 *
 * @example
 * ```ts
 * const opperEvent = sseEventSchema(opperChunkSchema);
 * opperEvent.parse({ event: 'message', data: { delta: 'Hi' } });
 * ```
 */
export function sseEventSchema<Data extends z.ZodType>(dataSchema: Data) {
  return z.object({
    /** The last event id the server set, if any. */
    id: z.string().optional(),
    /** The event type (`message` when the server sent no `event:` line). */
    event: z.string().optional(),
    /** The event's data, parsed. */
    data: dataSchema,
    /** Reconnection time in milliseconds. */
    retry: z.number().int().nonnegative().optional(),
  });
}

/** An SSE event with raw text data: what comes off the wire before the data is parsed. */
export const rawSseEventSchema = sseEventSchema(z.string());

/** One Server-Sent Event with its `data` of type `Data` (the raw text when not parsed). */
export type SseEvent<Data = string> = Omit<z.infer<typeof rawSseEventSchema>, 'data'> & {
  data: Data;
};

import { z } from 'zod';
import { sseEventSchema } from './sse-event.js';

// Chat-completion chunks have no `type` discriminator and every gateway adds its own fields
// (OpenRouter's `provider`, OpenAI's `obfuscation`, …), so their objects are loose: extra
// fields are kept, and only the fields below are checked.

/** The data of the event that ends a chat-completions stream. */
export const CHAT_COMPLETIONS_DONE = '[DONE]';

/** A streamed tool-call fragment; `arguments` arrive in pieces across chunks. */
export const chatToolCallDeltaSchema = z.looseObject({
  index: z.number().int(),
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z
    .looseObject({
      name: z.string().nullish(),
      arguments: z.string().nullish(),
    })
    .nullish(),
});
/** A streamed tool-call fragment. */
export type ChatToolCallDelta = z.infer<typeof chatToolCallDeltaSchema>;

/** What a chunk adds to one choice's message. */
export const chatDeltaSchema = z.looseObject({
  role: z.string().nullish(),
  content: z.string().nullish(),
  refusal: z.string().nullish(),
  /** Reasoning text (OpenRouter, DeepSeek-style gateways). */
  reasoning: z.string().nullish(),
  reasoning_content: z.string().nullish(),
  tool_calls: z.array(chatToolCallDeltaSchema).nullish(),
});
/** What a chunk adds to one choice's message. */
export type ChatDelta = z.infer<typeof chatDeltaSchema>;

/** One choice within a chunk. */
export const chatChoiceChunkSchema = z.looseObject({
  index: z.number().int(),
  delta: chatDeltaSchema,
  /**
   * `stop`, `length`, `tool_calls`, `content_filter`, `error`, … or null until the end.
   * Required (null until the end), as OpenAI sends it and @openrouter/sdk demands it.
   */
  finish_reason: z.string().nullable(),
  logprobs: z.unknown().optional(),
});
/** One choice within a chunk. */
export type ChatChoiceChunk = z.infer<typeof chatChoiceChunkSchema>;

/** Token counts, usually on the last chunk. */
export const chatUsageSchema = z.looseObject({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().int().nullish() }).nullish(),
  completion_tokens_details: z
    .looseObject({ reasoning_tokens: z.number().int().nullish() })
    .nullish(),
});
/** Token counts of a chat completion. */
export type ChatUsage = z.infer<typeof chatUsageSchema>;

/** An error object inside a chunk (OpenRouter sends one when a stream fails midway). */
export const chatErrorSchema = z.looseObject({
  message: z.string(),
  code: z.union([z.string(), z.number()]).nullish(),
  type: z.string().nullish(),
});
/** An error object inside a chunk. */
export type ChatError = z.infer<typeof chatErrorSchema>;

/** One `chat.completion.chunk`, as on the wire. */
export const chatCompletionChunkSchema = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(chatChoiceChunkSchema),
  usage: chatUsageSchema.nullish(),
  system_fingerprint: z.string().nullish(),
  error: chatErrorSchema.nullish(),
});
/** One `chat.completion.chunk`. */
export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;

/** A bare error event (`{"error": {…}}`) some gateways send instead of a chunk. */
export const chatErrorEventSchema = z.looseObject({ error: chatErrorSchema });
/** A bare error event some gateways send instead of a chunk. */
export type ChatErrorEvent = z.infer<typeof chatErrorEventSchema>;

/** The data of one chat-completions event: a chunk or a bare error (`[DONE]` is a sentinel). */
export const chatCompletionsEventSchema = z.union([
  chatCompletionChunkSchema,
  chatErrorEventSchema,
]);
/** The data of one chat-completions event. */
export type ChatCompletionsEvent = z.infer<typeof chatCompletionsEventSchema>;

/**
 * One SSE event of a chat-completions stream: a parsed chunk or error, or the `[DONE]` text.
 */
export const chatCompletionsStreamEventSchema = sseEventSchema(
  z.union([chatCompletionsEventSchema, z.literal(CHAT_COMPLETIONS_DONE)]),
);
/** One SSE event of a chat-completions stream. */
export type ChatCompletionsStreamEvent = z.infer<typeof chatCompletionsStreamEventSchema>;

import { z } from 'zod';
import { sseEventSchema } from './sse-event.js';

// Wire (snake_case) schemas for OpenResponses streams (OpenRouter, OpenAI Responses API).
//
// Strictness is deliberate:
// - Each top-level event is a strict object: a known `type` that carries a field we do not
//   know is treated as a newer, unknown event and kept untouched (see `parseEventData`).
// - Nested objects (the response, output items, parts, annotations) are loose: providers add
//   fields to them all the time, and they are kept as they are.
// - Required fields mirror @openrouter/sdk 1.3.19, so what we call a known event its client
//   parses too (the agreement test checks this). One exception: OpenAI's own response object
//   leaves out `completed_at`, `presence_penalty` and `frequency_penalty`, which that SDK
//   requires; they are optional here, so a stream recorded from OpenAI is understood.
// - Nested unions end in a generic `{type: string}` member, like the SDK's forward-compatible
//   unions, so a new kind of output item does not turn its whole event unknown.

const int = z.number().int();

/** A token's log probability in a streamed text delta. */
export const streamLogprobSchema = z.looseObject({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(int).optional(),
  top_logprobs: z
    .array(
      z.looseObject({
        token: z.string().optional(),
        logprob: z.number().optional(),
        bytes: z.array(int).optional(),
      }),
    )
    .optional(),
});
/** A token's log probability in a streamed text delta. */
export type StreamLogprob = z.infer<typeof streamLogprobSchema>;

/** A citation of a web page inside output text. */
export const urlCitationSchema = z.looseObject({
  type: z.literal('url_citation'),
  url: z.string(),
  title: z.string(),
  start_index: int,
  end_index: int,
  content: z.string().optional(),
});
/** A citation of an uploaded file inside output text. */
export const fileCitationSchema = z.looseObject({
  type: z.literal('file_citation'),
  file_id: z.string(),
  filename: z.string(),
  index: int,
});
/** A path to a generated file inside output text. */
export const filePathSchema = z.looseObject({
  type: z.literal('file_path'),
  file_id: z.string(),
  index: int,
});
/** Any annotation kind not modelled above, kept as is. */
export const otherAnnotationSchema = z.looseObject({ type: z.string() });

/** An annotation on output text: a URL or file citation, a file path, or a newer kind. */
export const annotationSchema = z.union([
  z.discriminatedUnion('type', [urlCitationSchema, fileCitationSchema, filePathSchema]),
  otherAnnotationSchema,
]);
/** An annotation on output text. */
export type Annotation = z.infer<typeof annotationSchema>;

/** Text the model wrote, with its annotations and log probabilities. */
export const outputTextPartSchema = z.looseObject({
  type: z.literal('output_text'),
  text: z.string(),
  annotations: z.array(annotationSchema).optional(),
  logprobs: z.array(z.looseObject({ token: z.string(), logprob: z.number() })).optional(),
});
/** The model declined; `refusal` says why. */
export const refusalPartSchema = z.looseObject({
  type: z.literal('refusal'),
  refusal: z.string(),
});
/** Reasoning text (models that expose their reasoning). */
export const reasoningTextPartSchema = z.looseObject({
  type: z.literal('reasoning_text'),
  text: z.string(),
});
/** A reasoning summary. */
export const summaryTextPartSchema = z.looseObject({
  type: z.literal('summary_text'),
  text: z.string(),
});
/** Any content part kind not modelled above, kept as is. */
export const otherContentPartSchema = z.looseObject({ type: z.string() });

/** A content part of a message or reasoning item. */
export const contentPartSchema = z.union([
  z.discriminatedUnion('type', [
    outputTextPartSchema,
    refusalPartSchema,
    reasoningTextPartSchema,
    summaryTextPartSchema,
  ]),
  otherContentPartSchema,
]);
/** A content part of a message or reasoning item. */
export type ContentPart = z.infer<typeof contentPartSchema>;

const itemStatus = z.string();

/** An assistant message: text and refusals. */
export const messageItemSchema = z.looseObject({
  type: z.literal('message'),
  id: z.string(),
  role: z.literal('assistant'),
  content: z.array(contentPartSchema),
  status: itemStatus.optional(),
});
/** A call of one of the caller's functions; `arguments` is JSON text. */
export const functionCallItemSchema = z.looseObject({
  type: z.literal('function_call'),
  id: z.string().optional(),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  status: itemStatus.optional(),
});
/** The model's reasoning: summaries and, for some models, the reasoning text. */
export const reasoningItemSchema = z.looseObject({
  type: z.literal('reasoning'),
  id: z.string(),
  summary: z.array(summaryTextPartSchema),
  content: z.array(reasoningTextPartSchema).nullish(),
  encrypted_content: z.string().nullish(),
  status: itemStatus.optional(),
});
/** An image generation call; `result` is base64 once done. */
export const imageGenerationCallItemSchema = z.looseObject({
  type: z.literal('image_generation_call'),
  id: z.string(),
  status: z.string(),
  result: z.string().nullish(),
});
/** A web search the provider ran. */
export const webSearchCallItemSchema = z.looseObject({
  type: z.literal('web_search_call'),
  id: z.string(),
  status: z.string(),
  action: z.looseObject({ type: z.string() }).optional(),
});
/** Code the provider ran in its interpreter. */
export const codeInterpreterCallItemSchema = z.looseObject({
  type: z.literal('code_interpreter_call'),
  id: z.string(),
  status: z.string(),
  code: z.string().nullish(),
  container_id: z.string().optional(),
  outputs: z.array(z.looseObject({ type: z.string() })).nullish(),
});
/** A call of a custom (free-text input) tool. */
export const customToolCallItemSchema = z.looseObject({
  type: z.literal('custom_tool_call'),
  id: z.string().optional(),
  call_id: z.string(),
  name: z.string(),
  input: z.string(),
});
/** Any output item kind not modelled above (file search, computer use, OpenRouter tools…). */
export const otherOutputItemSchema = z.looseObject({ type: z.string() });

/** One item of a response's output. */
export const outputItemSchema = z.union([
  z.discriminatedUnion('type', [
    messageItemSchema,
    functionCallItemSchema,
    reasoningItemSchema,
    imageGenerationCallItemSchema,
    webSearchCallItemSchema,
    codeInterpreterCallItemSchema,
    customToolCallItemSchema,
  ]),
  otherOutputItemSchema,
]);
/** One item of a response's output. */
export type OutputItem = z.infer<typeof outputItemSchema>;

/** Token counts of a response. */
export const responseUsageSchema = z.looseObject({
  input_tokens: int,
  input_tokens_details: z.looseObject({ cached_tokens: int }),
  output_tokens: int,
  output_tokens_details: z.looseObject({ reasoning_tokens: int }),
  total_tokens: int,
  cost: z.number().nullish(),
});
/** Token counts of a response. */
export type ResponseUsage = z.infer<typeof responseUsageSchema>;

/** Status of a response; providers may add values, so any string is accepted. */
export const responseStatusSchema = z.union([
  z.enum(['in_progress', 'completed', 'incomplete', 'failed', 'cancelled', 'queued']),
  z.string(),
]);

/** A response object, as carried by the `response.*` lifecycle events. */
export const responseObjectSchema = z.looseObject({
  id: z.string(),
  object: z.literal('response'),
  created_at: int,
  completed_at: int.nullish(),
  status: responseStatusSchema,
  model: z.string(),
  output: z.array(outputItemSchema),
  error: z.looseObject({ code: z.string(), message: z.string() }).nullable(),
  incomplete_details: z.looseObject({ reason: z.string().optional() }).nullable(),
  instructions: z.union([z.string(), z.array(z.unknown())]).nullable(),
  metadata: z.record(z.string(), z.string()).nullable(),
  temperature: z.number().nullable(),
  top_p: z.number().nullable(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  tools: z.array(z.looseObject({ type: z.string() })),
  tool_choice: z.union([z.string(), z.looseObject({ type: z.string() })]),
  parallel_tool_calls: z.boolean(),
  usage: responseUsageSchema.nullish(),
  output_text: z.string().optional(),
  max_output_tokens: int.nullish(),
  previous_response_id: z.string().nullish(),
  user: z.string().nullish(),
});
/** A response object. */
export type ResponseObject = z.infer<typeof responseObjectSchema>;

const base = { sequence_number: int };
const itemRef = { ...base, item_id: z.string(), output_index: int };
const contentRef = { ...itemRef, content_index: int };
// OpenAI pads deltas with random `obfuscation` text against side-channel attacks.
const obfuscation = { obfuscation: z.string().optional() };

function event<Type extends string, Shape extends z.ZodRawShape>(type: Type, shape: Shape) {
  return z.strictObject({ type: z.literal(type), ...shape });
}

const lifecycle = <Type extends string>(type: Type) =>
  event(type, { ...base, response: responseObjectSchema });

/** `response.created`: the response exists; carries the whole response object. */
export const responseCreatedEventSchema = lifecycle('response.created');
/** `response.in_progress`. */
export const responseInProgressEventSchema = lifecycle('response.in_progress');
/** `response.completed`: the final response, with usage. */
export const responseCompletedEventSchema = lifecycle('response.completed');
/** `response.incomplete`: stopped early; `response.incomplete_details.reason` says why. */
export const responseIncompleteEventSchema = lifecycle('response.incomplete');
/** `response.failed`: `response.error` says why. */
export const responseFailedEventSchema = lifecycle('response.failed');
/** `error`: the stream failed. */
export const errorEventSchema = event('error', {
  ...base,
  code: z.string().nullable(),
  message: z.string(),
  param: z.string().nullable(),
});
/** `response.output_item.added`. */
export const outputItemAddedEventSchema = event('response.output_item.added', {
  ...base,
  output_index: int,
  item: outputItemSchema,
});
/** `response.output_item.done`: the finished item. */
export const outputItemDoneEventSchema = event('response.output_item.done', {
  ...base,
  output_index: int,
  item: outputItemSchema,
});
/** `response.content_part.added`. */
export const contentPartAddedEventSchema = event('response.content_part.added', {
  ...contentRef,
  part: contentPartSchema,
});
/** `response.content_part.done`. */
export const contentPartDoneEventSchema = event('response.content_part.done', {
  ...contentRef,
  part: contentPartSchema,
});
/** `response.output_text.delta`: the next piece of text. */
export const outputTextDeltaEventSchema = event('response.output_text.delta', {
  ...contentRef,
  delta: z.string(),
  logprobs: z.array(streamLogprobSchema),
  ...obfuscation,
});
/** `response.output_text.done`: the whole text of one content part. */
export const outputTextDoneEventSchema = event('response.output_text.done', {
  ...contentRef,
  text: z.string(),
  logprobs: z.array(streamLogprobSchema),
});
/** `response.refusal.delta`. */
export const refusalDeltaEventSchema = event('response.refusal.delta', {
  ...contentRef,
  delta: z.string(),
  ...obfuscation,
});
/** `response.refusal.done`. */
export const refusalDoneEventSchema = event('response.refusal.done', {
  ...contentRef,
  refusal: z.string(),
});
/** `response.output_text.annotation.added`. */
export const outputTextAnnotationAddedEventSchema = event('response.output_text.annotation.added', {
  ...contentRef,
  annotation_index: int,
  annotation: annotationSchema,
});
/** `response.function_call_arguments.delta`: the next piece of the arguments JSON. */
export const functionCallArgumentsDeltaEventSchema = event(
  'response.function_call_arguments.delta',
  { ...itemRef, delta: z.string(), ...obfuscation },
);
/** `response.function_call_arguments.done`: name and whole arguments. */
export const functionCallArgumentsDoneEventSchema = event('response.function_call_arguments.done', {
  ...itemRef,
  name: z.string(),
  arguments: z.string(),
});
/** `response.reasoning_text.delta`. */
export const reasoningTextDeltaEventSchema = event('response.reasoning_text.delta', {
  ...contentRef,
  delta: z.string(),
  ...obfuscation,
});
/** `response.reasoning_text.done`. */
export const reasoningTextDoneEventSchema = event('response.reasoning_text.done', {
  ...contentRef,
  text: z.string(),
});
/** `response.reasoning_summary_part.added`. */
export const reasoningSummaryPartAddedEventSchema = event('response.reasoning_summary_part.added', {
  ...itemRef,
  summary_index: int,
  part: summaryTextPartSchema,
});
/** `response.reasoning_summary_part.done`. */
export const reasoningSummaryPartDoneEventSchema = event('response.reasoning_summary_part.done', {
  ...itemRef,
  summary_index: int,
  part: summaryTextPartSchema,
});
/** `response.reasoning_summary_text.delta`. */
export const reasoningSummaryTextDeltaEventSchema = event('response.reasoning_summary_text.delta', {
  ...itemRef,
  summary_index: int,
  delta: z.string(),
  ...obfuscation,
});
/** `response.reasoning_summary_text.done`. */
export const reasoningSummaryTextDoneEventSchema = event('response.reasoning_summary_text.done', {
  ...itemRef,
  summary_index: int,
  text: z.string(),
});
/** `response.image_generation_call.in_progress`. */
export const imageGenerationCallInProgressEventSchema = event(
  'response.image_generation_call.in_progress',
  itemRef,
);
/** `response.image_generation_call.generating`. */
export const imageGenerationCallGeneratingEventSchema = event(
  'response.image_generation_call.generating',
  itemRef,
);
/** `response.image_generation_call.partial_image`: a base64 preview. */
export const imageGenerationCallPartialImageEventSchema = event(
  'response.image_generation_call.partial_image',
  { ...itemRef, partial_image_b64: z.string(), partial_image_index: int },
);
/** `response.image_generation_call.completed`. */
export const imageGenerationCallCompletedEventSchema = event(
  'response.image_generation_call.completed',
  itemRef,
);
/** `response.custom_tool_call_input.delta`. */
export const customToolCallInputDeltaEventSchema = event('response.custom_tool_call_input.delta', {
  ...itemRef,
  delta: z.string(),
  ...obfuscation,
});
/** `response.custom_tool_call_input.done`. */
export const customToolCallInputDoneEventSchema = event('response.custom_tool_call_input.done', {
  ...itemRef,
  input: z.string(),
});
/** `response.apply_patch_call_operation_diff.delta`. */
export const applyPatchCallOperationDiffDeltaEventSchema = event(
  'response.apply_patch_call_operation_diff.delta',
  { ...itemRef, delta: z.string(), ...obfuscation },
);
/** `response.apply_patch_call_operation_diff.done`. */
export const applyPatchCallOperationDiffDoneEventSchema = event(
  'response.apply_patch_call_operation_diff.done',
  { ...itemRef, diff: z.string() },
);
/** `response.code_interpreter_call_code.delta`. */
export const codeInterpreterCallCodeDeltaEventSchema = event(
  'response.code_interpreter_call_code.delta',
  { ...itemRef, delta: z.string(), ...obfuscation },
);
/** `response.code_interpreter_call_code.done`. */
export const codeInterpreterCallCodeDoneEventSchema = event(
  'response.code_interpreter_call_code.done',
  { ...itemRef, code: z.string() },
);
/** `response.code_interpreter_call.in_progress`. */
export const codeInterpreterCallInProgressEventSchema = event(
  'response.code_interpreter_call.in_progress',
  itemRef,
);
/** `response.code_interpreter_call.interpreting`. */
export const codeInterpreterCallInterpretingEventSchema = event(
  'response.code_interpreter_call.interpreting',
  itemRef,
);
/** `response.code_interpreter_call.completed`. */
export const codeInterpreterCallCompletedEventSchema = event(
  'response.code_interpreter_call.completed',
  itemRef,
);
/** `response.web_search_call.in_progress`. */
export const webSearchCallInProgressEventSchema = event(
  'response.web_search_call.in_progress',
  itemRef,
);
/** `response.web_search_call.searching`. */
export const webSearchCallSearchingEventSchema = event(
  'response.web_search_call.searching',
  itemRef,
);
/** `response.web_search_call.completed`. */
export const webSearchCallCompletedEventSchema = event(
  'response.web_search_call.completed',
  itemRef,
);
/** `response.fusion_call.in_progress` (OpenRouter fusion: several models, one judged answer). */
export const fusionCallInProgressEventSchema = event('response.fusion_call.in_progress', itemRef);
/** `response.fusion_call.completed`. */
export const fusionCallCompletedEventSchema = event('response.fusion_call.completed', itemRef);
/** `response.fusion_call.analysis.in_progress`. */
export const fusionCallAnalysisInProgressEventSchema = event(
  'response.fusion_call.analysis.in_progress',
  { ...itemRef, analyst_model: z.string(), judge_model: z.string() },
);
/** The judge's analysis of a fusion call's panel. */
export const fusionAnalysisSchema = z.looseObject({
  blind_spots: z.array(z.string()),
  consensus: z.array(z.string()),
  contradictions: z.array(
    z.looseObject({
      topic: z.string(),
      stances: z.array(z.looseObject({ model: z.string(), stance: z.string() })),
    }),
  ),
  partial_coverage: z.array(z.looseObject({ point: z.string(), models: z.array(z.string()) })),
  unique_insights: z.array(z.looseObject({ model: z.string(), insight: z.string() })),
});
/** `response.fusion_call.analysis.completed`. */
export const fusionCallAnalysisCompletedEventSchema = event(
  'response.fusion_call.analysis.completed',
  { ...itemRef, analysis: fusionAnalysisSchema },
);
/** `response.fusion_call.panel.added`: a panel model started. */
export const fusionCallPanelAddedEventSchema = event('response.fusion_call.panel.added', {
  ...itemRef,
  model: z.string(),
});
/** `response.fusion_call.panel.delta`: text from one panel model. */
export const fusionCallPanelDeltaEventSchema = event('response.fusion_call.panel.delta', {
  ...itemRef,
  model: z.string(),
  delta: z.string(),
});
/** `response.fusion_call.panel.reasoning.delta`: reasoning from one panel model. */
export const fusionCallPanelReasoningDeltaEventSchema = event(
  'response.fusion_call.panel.reasoning.delta',
  { ...itemRef, model: z.string(), delta: z.string() },
);
/** `response.fusion_call.panel.completed`: one panel model's whole answer. */
export const fusionCallPanelCompletedEventSchema = event('response.fusion_call.panel.completed', {
  ...itemRef,
  model: z.string(),
  content: z.string(),
});
/** `response.fusion_call.panel.failed`. */
export const fusionCallPanelFailedEventSchema = event('response.fusion_call.panel.failed', {
  ...itemRef,
  model: z.string(),
  error: z.string(),
  status_code: int.optional(),
});
/** `response.debug`: OpenRouter debug output (echoed upstream body, timings). */
export const debugEventSchema = event('response.debug', {
  ...base,
  debug: z.looseObject({
    echo_upstream_body: z.record(z.string(), z.unknown()).optional(),
    timings: z.looseObject({ epoch_ms: int, event: z.string(), start_ms: int }).optional(),
  }),
});

/** Every OpenResponses event tapedeck knows, as a discriminated union on `type`. */
export const openResponsesKnownEventSchema = z.discriminatedUnion('type', [
  responseCreatedEventSchema,
  responseInProgressEventSchema,
  responseCompletedEventSchema,
  responseIncompleteEventSchema,
  responseFailedEventSchema,
  errorEventSchema,
  outputItemAddedEventSchema,
  outputItemDoneEventSchema,
  contentPartAddedEventSchema,
  contentPartDoneEventSchema,
  outputTextDeltaEventSchema,
  outputTextDoneEventSchema,
  refusalDeltaEventSchema,
  refusalDoneEventSchema,
  outputTextAnnotationAddedEventSchema,
  functionCallArgumentsDeltaEventSchema,
  functionCallArgumentsDoneEventSchema,
  reasoningTextDeltaEventSchema,
  reasoningTextDoneEventSchema,
  reasoningSummaryPartAddedEventSchema,
  reasoningSummaryPartDoneEventSchema,
  reasoningSummaryTextDeltaEventSchema,
  reasoningSummaryTextDoneEventSchema,
  imageGenerationCallInProgressEventSchema,
  imageGenerationCallGeneratingEventSchema,
  imageGenerationCallPartialImageEventSchema,
  imageGenerationCallCompletedEventSchema,
  customToolCallInputDeltaEventSchema,
  customToolCallInputDoneEventSchema,
  applyPatchCallOperationDiffDeltaEventSchema,
  applyPatchCallOperationDiffDoneEventSchema,
  codeInterpreterCallCodeDeltaEventSchema,
  codeInterpreterCallCodeDoneEventSchema,
  codeInterpreterCallInProgressEventSchema,
  codeInterpreterCallInterpretingEventSchema,
  codeInterpreterCallCompletedEventSchema,
  webSearchCallInProgressEventSchema,
  webSearchCallSearchingEventSchema,
  webSearchCallCompletedEventSchema,
  fusionCallInProgressEventSchema,
  fusionCallCompletedEventSchema,
  fusionCallAnalysisInProgressEventSchema,
  fusionCallAnalysisCompletedEventSchema,
  fusionCallPanelAddedEventSchema,
  fusionCallPanelDeltaEventSchema,
  fusionCallPanelReasoningDeltaEventSchema,
  fusionCallPanelCompletedEventSchema,
  fusionCallPanelFailedEventSchema,
  debugEventSchema,
]);
/** Every OpenResponses event tapedeck knows. */
export type OpenResponsesKnownEvent = z.infer<typeof openResponsesKnownEventSchema>;

/**
 * The known event with this `type`.
 *
 * @example
 * ```ts
 * type Delta = OpenResponsesEventOfType<'response.output_text.delta'>; // {type, delta, logprobs, …}
 * ```
 */
export type OpenResponsesEventOfType<Type extends OpenResponsesKnownEvent['type']> = Extract<
  OpenResponsesKnownEvent,
  { type: Type }
>;

/** The `type` of every known OpenResponses event (49, the same set as @openrouter/sdk 1.3.19). */
export const OPENRESPONSES_EVENT_TYPES: readonly OpenResponsesKnownEvent['type'][] = Object.freeze(
  openResponsesKnownEventSchema.options.map((option) => option.shape.type.value),
);

/**
 * An event this version of tapedeck does not know (a new `type`, or a known type with fields
 * it does not know). It is the original object itself: validating never copies, reorders or
 * strips it, so `JSON.stringify` gives back what came in.
 */
export type OpenResponsesUnknownEvent = { type: string; [key: string]: unknown };

/** Accepts any object with a string `type` and returns that very object. */
export const openResponsesUnknownEventSchema = z.custom<OpenResponsesUnknownEvent>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { type?: unknown }).type === 'string',
  { message: 'an OpenResponses event is an object with a string "type"' },
);

/**
 * The data of any OpenResponses event: a known event, or else an unknown one kept untouched.
 * Use `parseEventData('openresponses', …)` to learn which, and to get the original object.
 */
export const openResponsesEventSchema = z.union([
  openResponsesKnownEventSchema,
  openResponsesUnknownEventSchema,
]);
/** The data of any OpenResponses event. */
export type OpenResponsesEvent = z.infer<typeof openResponsesEventSchema>;

/** The data that ends an OpenResponses stream on OpenRouter. */
export const OPENRESPONSES_DONE = '[DONE]';

/** One SSE event of an OpenResponses stream: an event, or the `[DONE]` text. */
export const openResponsesStreamEventSchema = sseEventSchema(
  z.union([openResponsesEventSchema, z.literal(OPENRESPONSES_DONE)]),
);
/** One SSE event of an OpenResponses stream. */
export type OpenResponsesStreamEvent = z.infer<typeof openResponsesStreamEventSchema>;

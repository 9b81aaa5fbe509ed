// Local copies of the OpenTelemetry GenAI semantic-convention names (v1.41), as contrib
// instrumentations do: the incubating constants are not a stable export of
// @opentelemetry/semantic-conventions, and copying them keeps this package free of that dependency.

/** `gen_ai.operation.name`: `chat`, `text_completion`, … */
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
/** `gen_ai.provider.name`: `openai`, `openrouter`, `opper`, … */
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
/** `gen_ai.request.model`: the model the request asked for. */
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
/** `gen_ai.request.stream`: true for streaming calls. */
export const ATTR_GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream';
/** `gen_ai.response.id`: the provider's response id. */
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
/** `gen_ai.response.model`: the model that answered. */
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
/** `gen_ai.response.finish_reasons`: one per choice / response. */
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
/** `gen_ai.response.time_to_first_chunk`: seconds from request to the first chunk. */
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';
/** `gen_ai.usage.input_tokens`. */
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
/** `gen_ai.usage.output_tokens`. */
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
/** `gen_ai.usage.cache_read.input_tokens`: input tokens served from the provider's cache. */
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
/** `gen_ai.usage.reasoning.output_tokens`: output tokens spent on reasoning. */
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';
/** `gen_ai.output.messages`: the assembled output, JSON (content capture only). */
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';
/** `gen_ai.tool.call.id`. */
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
/** `gen_ai.tool.name`. */
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
/** `gen_ai.tool.type`: `function`, … */
export const ATTR_GEN_AI_TOOL_TYPE = 'gen_ai.tool.type';
/** `gen_ai.token.type`: `input` or `output` (metric attribute). */
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';
/** `error.type`: a low-cardinality error class, the provider's code, or the HTTP status. */
export const ATTR_ERROR_TYPE = 'error.type';
/** `server.address`. */
export const ATTR_SERVER_ADDRESS = 'server.address';
/** `server.port`. */
export const ATTR_SERVER_PORT = 'server.port';
/** `http.request.method`. */
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
/** `http.response.status_code`. */
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';

/** Histogram (s): the whole operation, request to end of stream. */
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration';
/** Histogram (s): request to the first chunk of the stream. */
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK =
  'gen_ai.client.operation.time_to_first_chunk';
/** Histogram (s): for each chunk after the first, the time since the previous one. */
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK =
  'gen_ai.client.operation.time_per_output_chunk';
/** Histogram ({token}): input and output tokens, split by `gen_ai.token.type`. */
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage';

/** Value of `gen_ai.operation.name` for chat-style generation. */
export const GEN_AI_OPERATION_NAME_VALUE_CHAT = 'chat';

// tapedeck's own attributes. Times are milliseconds unless the name says otherwise.
/** The stream family (`opper`, `openresponses`, `chat-completions`, `sse`). */
export const ATTR_TAPEDECK_STREAM_FAMILY = 'tapedeck.stream.family';
/** SSE events dispatched. */
export const ATTR_TAPEDECK_EVENT_COUNT = 'tapedeck.event.count';
/** Network chunks read. */
export const ATTR_TAPEDECK_CHUNK_COUNT = 'tapedeck.chunk.count';
/** Bytes read. */
export const ATTR_TAPEDECK_BYTE_COUNT = 'tapedeck.byte.count';
/** Delta events (text, arguments, reasoning, Opper chunks with a delta, chat content). */
export const ATTR_TAPEDECK_DELTA_COUNT = 'tapedeck.delta.count';
/** Characters carried by delta events. */
export const ATTR_TAPEDECK_DELTA_CHARACTERS = 'tapedeck.delta.characters';
/** Milliseconds from the request to the first delta event. */
export const ATTR_TAPEDECK_TIME_TO_FIRST_DELTA_MS = 'tapedeck.time_to_first_delta_ms';
/** Largest gap between consecutive events (ms). */
export const ATTR_TAPEDECK_GAP_MAX_MS = 'tapedeck.gap.max_ms';
/** Mean gap between consecutive events (ms). */
export const ATTR_TAPEDECK_GAP_MEAN_MS = 'tapedeck.gap.mean_ms';
/** Median gap between consecutive events (ms). */
export const ATTR_TAPEDECK_GAP_P50_MS = 'tapedeck.gap.p50_ms';
/** 95th percentile gap between consecutive events (ms). */
export const ATTR_TAPEDECK_GAP_P95_MS = 'tapedeck.gap.p95_ms';
/** The last `sequence_number` seen (OpenResponses). */
export const ATTR_TAPEDECK_SEQUENCE_LAST = 'tapedeck.sequence.last';
/** How many sequence numbers were skipped. */
export const ATTR_TAPEDECK_SEQUENCE_GAPS = 'tapedeck.sequence.gaps';
/** The event that ended the stream (`response.completed`, `error`, `[DONE]`, …). */
export const ATTR_TAPEDECK_TERMINAL_EVENT_TYPE = 'tapedeck.terminal_event.type';
/** Why the stream ended; see {@link EndReason}. */
export const ATTR_TAPEDECK_END_REASON = 'tapedeck.end_reason';
/** Span events this instrumentation dropped or merged away to stay under the limit. */
export const ATTR_TAPEDECK_SPAN_EVENTS_DROPPED = 'tapedeck.span_events.dropped';
/** The recorder's tape for this stream (set by @tapedeck/recorder, or by traceTape). */
export const ATTR_TAPEDECK_TAPE_SPAN_ID = 'tapedeck.tape.span_id';
/** The trace the tape was recorded in (traceTape). */
export const ATTR_TAPEDECK_TAPE_TRACE_ID = 'tapedeck.tape.trace_id';
/** Opper's own span id for the call. */
export const ATTR_OPPER_SPAN_ID = 'opper.span_id';

// Span-event attributes.
/** Index of the SSE event in the stream. */
export const ATTR_TAPEDECK_EVENT_INDEX = 'tapedeck.event.index';
/** The SSE `id` field. */
export const ATTR_SSE_ID = 'sse.id';
/** The SSE `event` field. */
export const ATTR_SSE_EVENT = 'sse.event';
/** OpenResponses `sequence_number`. */
export const ATTR_TAPEDECK_SEQUENCE_NUMBER = 'tapedeck.sequence_number';
/** OpenResponses `output_index`. */
export const ATTR_TAPEDECK_OUTPUT_INDEX = 'tapedeck.output_index';
/** OpenResponses `content_index` (or `summary_index`). */
export const ATTR_TAPEDECK_CONTENT_INDEX = 'tapedeck.content_index';
/** OpenResponses `item_id`. */
export const ATTR_TAPEDECK_ITEM_ID = 'tapedeck.item_id';
/** Output item type (`message`, `function_call`, `reasoning`, …). */
export const ATTR_TAPEDECK_ITEM_TYPE = 'tapedeck.item_type';
/** Milliseconds since the previous event. */
export const ATTR_TAPEDECK_GAP_MS = 'tapedeck.gap_ms';
/** Milliseconds since the request was sent. */
export const ATTR_TAPEDECK_ELAPSED_MS = 'tapedeck.elapsed_ms';
/** Length of the event's `data` (UTF-16 code units). */
export const ATTR_TAPEDECK_DATA_LENGTH = 'tapedeck.data_length';
/** Opper `chunk_type`. */
export const ATTR_OPPER_CHUNK_TYPE = 'opper.chunk_type';
/** Opper `json_path`. */
export const ATTR_OPPER_JSON_PATH = 'opper.json_path';
/** Provider error code on an error event. */
export const ATTR_TAPEDECK_ERROR_CODE = 'tapedeck.error.code';
/** Provider error message on an error event. */
export const ATTR_TAPEDECK_ERROR_MESSAGE = 'tapedeck.error.message';

/** Name of a coalesced run of delta events. */
export const EVENT_TAPEDECK_DELTA_BATCH = 'tapedeck.delta_batch';
/** Name of the event marking the end of the stream. */
export const EVENT_TAPEDECK_STREAM_END = 'tapedeck.stream_end';
/** Batch: how many deltas. */
export const ATTR_TAPEDECK_BATCH_COUNT = 'tapedeck.batch.count';
/** Batch: the deltas' event type. */
export const ATTR_TAPEDECK_BATCH_DELTA_TYPE = 'tapedeck.batch.delta_type';
/** Batch: first event index. */
export const ATTR_TAPEDECK_BATCH_FIRST_INDEX = 'tapedeck.batch.first_index';
/** Batch: last event index. */
export const ATTR_TAPEDECK_BATCH_LAST_INDEX = 'tapedeck.batch.last_index';
/** Batch: first sequence number. */
export const ATTR_TAPEDECK_BATCH_FIRST_SEQUENCE = 'tapedeck.batch.first_sequence_number';
/** Batch: last sequence number. */
export const ATTR_TAPEDECK_BATCH_LAST_SEQUENCE = 'tapedeck.batch.last_sequence_number';
/** Batch: characters. */
export const ATTR_TAPEDECK_BATCH_CHARACTERS = 'tapedeck.batch.characters';
/** Batch: milliseconds from first to last delta. */
export const ATTR_TAPEDECK_BATCH_DURATION_MS = 'tapedeck.batch.duration_ms';
/** Batch: the largest gap before a delta in the batch (ms). */
export const ATTR_TAPEDECK_BATCH_MAX_GAP_MS = 'tapedeck.batch.max_gap_ms';
/** Batch: the deltas' text (content capture only, length-capped). */
export const ATTR_TAPEDECK_BATCH_TEXT = 'tapedeck.batch.text';

import {
  type Attributes,
  type Context,
  context as contextApi,
  diag,
  type Histogram,
  type Meter,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { detectFamily, type StreamFamily } from '@tapedeck/types';
import {
  type DeltaFields,
  type DeltaTemplate,
  deltaTemplateOf,
  readDeltaFields,
  readDeltaFieldsByTemplate,
} from './fast-delta.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_TOKEN_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_OPPER_CHUNK_TYPE,
  ATTR_OPPER_JSON_PATH,
  ATTR_OPPER_SPAN_ID,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SSE_EVENT,
  ATTR_SSE_ID,
  ATTR_TAPEDECK_BATCH_CHARACTERS,
  ATTR_TAPEDECK_BATCH_COUNT,
  ATTR_TAPEDECK_BATCH_DELTA_TYPE,
  ATTR_TAPEDECK_BATCH_DURATION_MS,
  ATTR_TAPEDECK_BATCH_FIRST_INDEX,
  ATTR_TAPEDECK_BATCH_FIRST_SEQUENCE,
  ATTR_TAPEDECK_BATCH_LAST_INDEX,
  ATTR_TAPEDECK_BATCH_LAST_SEQUENCE,
  ATTR_TAPEDECK_BATCH_MAX_GAP_MS,
  ATTR_TAPEDECK_BATCH_TEXT,
  ATTR_TAPEDECK_BYTE_COUNT,
  ATTR_TAPEDECK_CHUNK_COUNT,
  ATTR_TAPEDECK_CONTENT_INDEX,
  ATTR_TAPEDECK_DATA_LENGTH,
  ATTR_TAPEDECK_DELTA_CHARACTERS,
  ATTR_TAPEDECK_DELTA_COUNT,
  ATTR_TAPEDECK_ELAPSED_MS,
  ATTR_TAPEDECK_END_REASON,
  ATTR_TAPEDECK_ERROR_CODE,
  ATTR_TAPEDECK_ERROR_MESSAGE,
  ATTR_TAPEDECK_EVENT_COUNT,
  ATTR_TAPEDECK_EVENT_INDEX,
  ATTR_TAPEDECK_GAP_MAX_MS,
  ATTR_TAPEDECK_GAP_MEAN_MS,
  ATTR_TAPEDECK_GAP_MS,
  ATTR_TAPEDECK_GAP_P50_MS,
  ATTR_TAPEDECK_GAP_P95_MS,
  ATTR_TAPEDECK_ITEM_ID,
  ATTR_TAPEDECK_ITEM_TYPE,
  ATTR_TAPEDECK_OUTPUT_INDEX,
  ATTR_TAPEDECK_SEQUENCE_GAPS,
  ATTR_TAPEDECK_SEQUENCE_LAST,
  ATTR_TAPEDECK_SEQUENCE_NUMBER,
  ATTR_TAPEDECK_SPAN_EVENTS_DROPPED,
  ATTR_TAPEDECK_STREAM_FAMILY,
  ATTR_TAPEDECK_TERMINAL_EVENT_TYPE,
  ATTR_TAPEDECK_TIME_TO_FIRST_DELTA_MS,
  EVENT_TAPEDECK_DELTA_BATCH,
  EVENT_TAPEDECK_STREAM_END,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
} from './semconv.js';
import type { EndReason, InstrumentOptions, SpanEventsMode, StreamEndInfo } from './types.js';
import {
  captureContentFromEnvironment,
  createGapStatistics,
  describeRequest,
  type GapStatistics,
  jaegerTraceUrl,
  latestOfShape,
  providerNameFor,
  truncate,
} from './utils.js';

/** One SSE event as the stream span sees it. */
export interface StreamEventInput {
  type: string;
  data: string;
  id: string;
  index: number;
}

/** How the bytes stopped coming. */
export type StreamStop =
  /** The body closed cleanly. */
  | { kind: 'done' }
  /** The consumer cancelled the body (break, `cancel()`, an SDK stopping at `[DONE]`). */
  | { kind: 'cancel' }
  /** The caller's abort signal fired. */
  | { kind: 'abort'; error?: unknown }
  /** Reading the body failed (a reset, a dropped connection). */
  | { kind: 'error'; error: unknown }
  /** The request itself was rejected (no response). */
  | { kind: 'rejected'; error: unknown }
  /** Nobody read the stream for the idle timeout. */
  | { kind: 'idle' };

/** The instruments {@link createStreamSpan} records into. */
export interface StreamInstruments {
  duration: Histogram;
  timeToFirstChunk: Histogram;
  timePerOutputChunk: Histogram;
  tokenUsage: Histogram;
}

// The GenAI semantic conventions' advised boundaries for a whole operation's durations, in
// seconds (operation duration and time to first chunk alike).
const OPERATION_SECONDS_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/** Creates the GenAI client histograms on a meter. */
export function createInstruments(meter: Meter): StreamInstruments {
  return {
    duration: meter.createHistogram(METRIC_GEN_AI_CLIENT_OPERATION_DURATION, {
      description: 'GenAI operation duration.',
      unit: 's',
      advice: { explicitBucketBoundaries: OPERATION_SECONDS_BUCKETS },
    }),
    timeToFirstChunk: meter.createHistogram(METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK, {
      description: 'Time to receive the first chunk of a streamed response.',
      unit: 's',
      advice: { explicitBucketBoundaries: OPERATION_SECONDS_BUCKETS },
    }),
    timePerOutputChunk: meter.createHistogram(
      METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
      {
        description: 'Time between consecutive chunks of a streamed response.',
        unit: 's',
        advice: {
          explicitBucketBoundaries: [
            0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
          ],
        },
      },
    ),
    tokenUsage: meter.createHistogram(METRIC_GEN_AI_CLIENT_TOKEN_USAGE, {
      description: 'Number of input and output tokens used.',
      unit: '{token}',
      advice: {
        explicitBucketBoundaries: [
          1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
        ],
      },
    }),
  };
}

/** What {@link createStreamSpan} needs. */
export interface StreamSpanConfig {
  tracer: Tracer;
  instruments: StreamInstruments;
  options: InstrumentOptions;
  request: { url?: string; method?: string; body?: string | null; accept?: string | null };
  /** Epoch ms when the request was sent. */
  startTime: number;
  parentContext?: Context;
  /** Extra attributes for the stream span (traceTape's tape ids). */
  attributes?: Attributes;
  /** Span links (traceTape links the original recording's span). */
  links?: Array<{ context: import('@opentelemetry/api').SpanContext }>;
}

/** The stream span and the calls that feed it. Every call after `end` is ignored. */
export interface StreamSpan {
  readonly span: Span;
  /** The parent context with this span active: run the request inside it. */
  readonly context: Context;
  readonly ended: boolean;
  /** Why it ended, once it has. */
  readonly endReason: EndReason | undefined;
  /** The response head arrived. Returns false when the status already ended the span. */
  response(head: { status: number; statusText?: string }, timeMs: number): boolean;
  /** A network chunk arrived (counts bytes; the caller feeds the SSE parser). */
  chunk(byteLength: number, timeMs: number): void;
  /** An SSE event was dispatched by a chunk that arrived at `timeMs`. */
  event(event: StreamEventInput, timeMs: number): void;
  /**
   * The text of a chunk that is exactly one event of `type`, as `prefix` (`event: <type>\ndata: `)
   * and the data value, without the blank line; offered before the frame is checked. A delta
   * laid out like the stream's earlier deltas is recorded from the text as it stands (one
   * comparison for the frame and the template's head, no data string, no event object) and
   * true returned. False means nothing was recorded: check the frame and call `event`.
   */
  wholeChunkDelta(
    text: string,
    prefix: string,
    type: string,
    index: number,
    timeMs: number,
  ): boolean;
  /** The stream stopped; ends the span (once). */
  end(stop: StreamStop, timeMs: number): void;
}

type Priority = 0 | 1 | 2;
const PRIORITY_END: Priority = 0;
const PRIORITY_LIFECYCLE: Priority = 1;
const PRIORITY_BATCH: Priority = 2;

interface PendingBatch {
  deltaType: string;
  outputIndex?: number;
  contentIndex?: number;
  itemId?: string;
  jsonPath?: string;
  count: number;
  firstIndex: number;
  lastIndex: number;
  firstSequence?: number;
  lastSequence?: number;
  characters: number;
  startTime: number;
  lastTime: number;
  maxGapMs: number;
  text?: string[];
  textLength: number;
}

interface OutputItemState {
  type?: string;
  id?: string;
  name?: string;
  callId?: string;
  span?: Span;
  text: string[];
  arguments: string[];
  reasoning: string[];
  refusal: string[];
  done?: Record<string, unknown>;
}

interface EventFacts {
  /** Span-event name. */
  name: string;
  category: 'delta' | 'lifecycle' | 'terminal' | 'error';
  characters: number;
  deltaText?: string;
  sequenceNumber?: number;
  outputIndex?: number;
  contentIndex?: number;
  itemId?: string;
  itemType?: string;
  chunkType?: string;
  jsonPath?: string;
  errorCode?: string;
  errorMessage?: string;
  invalid?: boolean;
}

const DEFAULT_MAX_SPAN_EVENTS = 128;
const DEFAULT_DELTA_BATCH_SIZE = 64;
const DEFAULT_MAX_CONTENT_LENGTH = 8192;
const MAX_FRUITLESS_TEMPLATES = 4;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function errorTypeOf(error: unknown): string {
  if (isRecord(error) || error instanceof Error) {
    const record = error as Record<string, unknown>;
    const cause = record.cause;
    if (isRecord(cause) && typeof cause.code === 'string') return cause.code;
    if (typeof record.code === 'string') return record.code;
    if (typeof record.name === 'string' && record.name !== 'Error') return record.name;
  }
  return '_OTHER';
}

function toException(error: unknown): Error | string {
  if (error instanceof Error) return error;
  return String(error);
}

/** The paths a stream takes once or rarely, kept as closures over its configuration. */
interface ColdPaths {
  /** The first event: detect the family (and provider) from it. */
  detectFamily(event: StreamEventInput): void;
  /** The first event's time: time to first chunk. */
  firstEvent(timeMs: number): void;
  /** Everything but the fast delta path: JSON.parse and the family's own reading. */
  factsFor(event: StreamEventInput, timeMs: number): EventFacts;
  metricAttributes(): Attributes;
  response(head: { status: number; statusText?: string }, timeMs: number): boolean;
  end(stop: StreamStop, timeMs: number): void;
}

/** What {@link LiveStreamSpan} is configured with. */
interface LiveStreamSpanConfig {
  span: Span;
  context: Context;
  instruments: StreamInstruments;
  mode: SpanEventsMode;
  limitFor: readonly [number, number, number];
  maxContentLength: number;
  startTime: number;
  captureContent: boolean;
  family: StreamFamily | undefined;
  batchLimit: number;
}

/**
 * A stream span's per-event path and the state it keeps. A class, not closures: V8's optimized
 * code is specialized on the functions and object shapes it has seen, and one stream's closures
 * die with that stream; after a full GC the code built on them is discarded and the next stream
 * compiles it again, which cost more CPU than the per-event work itself. Methods are shared by
 * every stream, and `latestOfShape` keeps the objects' shapes alive between streams. The rarer
 * paths (first event, lifecycle events, the end) stay closures in {@link createStreamSpan}.
 */
class LiveStreamSpan implements StreamSpan {
  readonly span: Span;
  readonly context: Context;
  readonly instruments: StreamInstruments;
  readonly mode: SpanEventsMode;
  readonly limitFor: readonly [number, number, number];
  readonly maxContentLength: number;
  readonly startTime: number;
  readonly captureContent: boolean;
  readonly #cold: ColdPaths;
  family: StreamFamily | undefined;
  ended = false;
  endReason: EndReason | undefined = undefined;
  chunkCount = 0;
  byteCount = 0;
  eventCount = 0;
  deltaCount = 0;
  deltaCharacters = 0;
  firstDeltaTime: number | undefined = undefined;
  previousEventTime: number | undefined = undefined;
  readonly gaps: GapStatistics = createGapStatistics();
  lastSequence: number | undefined = undefined;
  sequenceGaps = 0;
  responseModel: string | undefined = undefined;
  emitted = 0;
  dropped = 0;
  batchLimit: number;
  nextDoublingAt: number;
  pending: PendingBatch | undefined = undefined;
  #metricAttributes: Attributes | undefined = undefined;
  #deltaTemplate: DeltaTemplate | undefined = undefined;
  /** Templates learnt in a row that did not fit the delta after them. */
  #fruitlessTemplates = 0;
  /** The frame's prefix and the delta template's head as one string, and what it was made from. */
  #framedHead: string | undefined = undefined;
  #framedHeadTemplate: DeltaTemplate | undefined = undefined;
  #framedHeadPrefix = '';
  readonly #deltaFields: DeltaFields = {
    sequenceNumber: undefined,
    outputIndex: undefined,
    contentIndex: undefined,
    itemId: undefined,
    characters: 0,
  };
  readonly #deltaFacts: EventFacts = {
    name: '',
    category: 'delta',
    characters: 0,
    sequenceNumber: undefined,
    outputIndex: undefined,
    contentIndex: undefined,
    itemId: undefined,
  };
  #metricAttributesModel: string | undefined = undefined;

  constructor(config: LiveStreamSpanConfig, cold: ColdPaths) {
    this.span = config.span;
    this.context = config.context;
    this.instruments = config.instruments;
    this.mode = config.mode;
    this.limitFor = config.limitFor;
    this.maxContentLength = config.maxContentLength;
    this.startTime = config.startTime;
    this.captureContent = config.captureContent;
    this.family = config.family;
    this.batchLimit = config.batchLimit;
    this.nextDoublingAt = Math.floor(Math.max(0, config.limitFor[PRIORITY_BATCH]) / 2);
    this.#cold = cold;
    latestOfShape.streamSpan = this;
  }

  response(head: { status: number; statusText?: string }, timeMs: number): boolean {
    return this.#cold.response(head, timeMs);
  }

  end(stop: StreamStop, timeMs: number): void {
    this.#cold.end(stop, timeMs);
  }

  chunk(byteLength: number, _timeMs: number): void {
    if (this.ended) return;
    this.chunkCount += 1;
    this.byteCount += byteLength;
  }

  event(event: StreamEventInput, timeMs: number): void {
    if (this.ended) return;
    if (this.family === undefined) this.#detectFamily(event);
    const gapMs = this.#arrived(timeMs);
    const facts = this.#fastDeltaFacts(event) ?? this.#factsFor(event, timeMs);
    latestOfShape.event = event;
    latestOfShape.facts = facts;
    this.#noteSequence(facts.sequenceNumber);
    if (facts.category === 'delta' && this.#recordDelta(event.index, facts, timeMs, gapMs)) return;
    // A non-delta event closes the current run of deltas.
    if (this.pending) this.flushBatch(PRIORITY_BATCH);
    const priority =
      facts.category === 'delta'
        ? PRIORITY_BATCH
        : facts.category === 'lifecycle'
          ? PRIORITY_LIFECYCLE
          : PRIORITY_END;
    if (
      !this.emit(facts.name, this.#eventAttributes(event, facts, timeMs, gapMs), timeMs, priority)
    ) {
      this.dropped += 1;
    }
  }

  wholeChunkDelta(
    text: string,
    prefix: string,
    type: string,
    index: number,
    timeMs: number,
  ): boolean {
    // Where `event` would record every delta as an event of its own, it needs the data.
    if (this.ended || this.mode === 'all') return false;
    // Only where `#fastDeltaFacts` would read the same data by the same template. It learns one
    // only for OpenResponses without content capture, neither of which changes once set.
    const template = this.#deltaTemplate;
    if (template === undefined) return false;
    if (template !== this.#framedHeadTemplate || prefix !== this.#framedHeadPrefix) {
      this.#framedHeadTemplate = template;
      this.#framedHeadPrefix = prefix;
      this.#framedHead = type.endsWith('.delta') ? prefix + template.head : undefined;
    }
    const framedHead = this.#framedHead;
    if (framedHead === undefined) return false;
    // The text is the prefix and the data: starting with the prefix and the head is the frame
    // check and the template's first comparison in one, and every position after it is the
    // data's shifted by the prefix, so the template reads the text as it would the data.
    const fields = readDeltaFieldsByTemplate(text, template, this.#deltaFields, framedHead);
    if (fields === undefined) return false;
    // The frame: the value is one line (the prefix ends in the only line break allowed).
    const valueStart = prefix.length;
    if (text.indexOf('\n', valueStart) !== -1 || text.indexOf('\r', valueStart) !== -1) {
      return false;
    }
    this.#fruitlessTemplates = 0;
    const gapMs = this.#arrived(timeMs);
    const facts = this.#deltaFactsOf(type, fields);
    latestOfShape.facts = facts;
    this.#noteSequence(fields.sequenceNumber);
    // Never mode 'all' here (see the top), so the delta is batched or dropped.
    this.#recordDelta(index, facts, timeMs, gapMs);
    return true;
  }

  /**
   * Counts a delta and batches or drops it as the mode says; false in mode 'all', where the
   * caller records it as an event of its own.
   */
  #recordDelta(index: number, facts: EventFacts, timeMs: number, gapMs: number): boolean {
    this.deltaCount += 1;
    this.deltaCharacters += facts.characters;
    if (this.firstDeltaTime === undefined) this.firstDeltaTime = timeMs;
    if (this.mode === 'coalesce') {
      this.#addToBatch(index, facts, timeMs, gapMs);
      return true;
    }
    if (this.mode === 'lifecycle') {
      this.dropped += 1;
      return true;
    }
    return false;
  }

  // The per-event methods reach the stream's closures only through these methods, which every
  // stream shares. Optimized code that called a closure directly was specialized on that one
  // stream's closure: the next stream's failed the check (a deoptimization), and once the old
  // stream was collected the code was thrown away and compiled again, on every stream.
  #detectFamily(event: StreamEventInput): void {
    this.#cold.detectFamily(event);
  }

  #factsFor(event: StreamEventInput, timeMs: number): EventFacts {
    return this.#cold.factsFor(event, timeMs);
  }

  #firstEvent(timeMs: number): void {
    this.#cold.firstEvent(timeMs);
  }

  #coldMetricAttributes(): Attributes {
    return this.#cold.metricAttributes();
  }

  /** Counts an event that arrived at `timeMs` and returns the gap since the one before. */
  #arrived(timeMs: number): number {
    this.eventCount += 1;
    let gapMs = 0;
    const previousEventTime = this.previousEventTime;
    if (previousEventTime === undefined) {
      this.#firstEvent(timeMs);
    } else {
      gapMs = timeMs - previousEventTime;
      this.gaps.add(gapMs);
      this.instruments.timePerOutputChunk.record(gapMs / 1000, this.#chunkMetricAttributes());
    }
    this.previousEventTime = timeMs;
    return gapMs;
  }

  // Deltas are most of a stream: read the few fields needed without JSON.parse. Content
  // capture needs the decoded text, so it takes the full path.
  #fastDeltaFacts(event: StreamEventInput): EventFacts | undefined {
    if (this.family !== 'openresponses' || this.captureContent) return undefined;
    const type = event.type;
    if (!type.endsWith('.delta')) return undefined;
    const data = event.data;
    const template = this.#deltaTemplate;
    let fields =
      template === undefined
        ? undefined
        : readDeltaFieldsByTemplate(data, template, this.#deltaFields);
    if (fields === undefined) {
      fields = readDeltaFields(data);
      if (!fields) return undefined;
      // The first delta, or another kind of delta: its layout serves the ones that follow. A
      // stream whose deltas change layout every time stops learning after a few tries.
      if (this.#fruitlessTemplates < MAX_FRUITLESS_TEMPLATES) {
        this.#deltaTemplate = deltaTemplateOf(data, fields);
        this.#fruitlessTemplates += 1;
      } else {
        this.#deltaTemplate = undefined;
      }
    } else {
      this.#fruitlessTemplates = 0;
    }
    return this.#deltaFactsOf(type, fields);
  }

  // One facts object per stream for its deltas: nothing keeps an event's facts past event().
  #deltaFactsOf(type: string, fields: DeltaFields): EventFacts {
    const facts = this.#deltaFacts;
    facts.name = type;
    facts.characters = fields.characters;
    facts.sequenceNumber = fields.sequenceNumber;
    facts.outputIndex = fields.outputIndex;
    facts.contentIndex = fields.contentIndex;
    facts.itemId = fields.itemId;
    return facts;
  }

  #noteSequence(sequenceNumber: number | undefined): void {
    if (sequenceNumber === undefined) return;
    const lastSequence = this.lastSequence;
    if (lastSequence !== undefined && sequenceNumber > lastSequence + 1) {
      this.sequenceGaps += sequenceNumber - lastSequence - 1;
    }
    if (lastSequence === undefined || sequenceNumber > lastSequence) {
      this.lastSequence = sequenceNumber;
    }
  }

  // Shared by every per-event record; rebuilt only when the response model becomes known.
  #chunkMetricAttributes(): Attributes {
    if (!this.#metricAttributes || this.#metricAttributesModel !== this.responseModel) {
      this.#metricAttributes = this.#coldMetricAttributes();
      this.#metricAttributesModel = this.responseModel;
    }
    return this.#metricAttributes;
  }

  emit(name: string, eventAttributes: Attributes, time: number, priority: Priority): boolean {
    if (this.mode !== 'all' && this.emitted >= this.limitFor[priority]) return false;
    this.span.addEvent(name, eventAttributes, time);
    this.emitted += 1;
    return true;
  }

  flushBatch(priority: Priority): void {
    const batch = this.pending;
    if (!batch) return;
    this.pending = undefined;
    const batchAttributes: Attributes = {
      [ATTR_TAPEDECK_BATCH_COUNT]: batch.count,
      [ATTR_TAPEDECK_BATCH_DELTA_TYPE]: batch.deltaType,
      [ATTR_TAPEDECK_BATCH_FIRST_INDEX]: batch.firstIndex,
      [ATTR_TAPEDECK_BATCH_LAST_INDEX]: batch.lastIndex,
      [ATTR_TAPEDECK_BATCH_CHARACTERS]: batch.characters,
      [ATTR_TAPEDECK_BATCH_DURATION_MS]: batch.lastTime - batch.startTime,
      [ATTR_TAPEDECK_BATCH_MAX_GAP_MS]: batch.maxGapMs,
      [ATTR_TAPEDECK_ELAPSED_MS]: batch.startTime - this.startTime,
    };
    if (batch.firstSequence !== undefined) {
      batchAttributes[ATTR_TAPEDECK_BATCH_FIRST_SEQUENCE] = batch.firstSequence;
    }
    if (batch.lastSequence !== undefined) {
      batchAttributes[ATTR_TAPEDECK_BATCH_LAST_SEQUENCE] = batch.lastSequence;
    }
    if (batch.outputIndex !== undefined) {
      batchAttributes[ATTR_TAPEDECK_OUTPUT_INDEX] = batch.outputIndex;
    }
    if (batch.contentIndex !== undefined) {
      batchAttributes[ATTR_TAPEDECK_CONTENT_INDEX] = batch.contentIndex;
    }
    if (batch.itemId !== undefined) batchAttributes[ATTR_TAPEDECK_ITEM_ID] = batch.itemId;
    if (batch.jsonPath !== undefined) batchAttributes[ATTR_OPPER_JSON_PATH] = batch.jsonPath;
    if (batch.text) {
      batchAttributes[ATTR_TAPEDECK_BATCH_TEXT] = truncate(
        batch.text.join(''),
        this.maxContentLength,
      );
    }
    latestOfShape.batchAttributes = batchAttributes;
    if (this.emit(EVENT_TAPEDECK_DELTA_BATCH, batchAttributes, batch.startTime, priority)) {
      // Geometric growth: each time half the remaining batch budget is used, batches grow
      // fourfold, so a long stream's batches still cover its whole timeline within the limit.
      if (priority === PRIORITY_BATCH && this.emitted >= this.nextDoublingAt) {
        this.batchLimit *= 4;
        const remaining = this.limitFor[PRIORITY_BATCH] - this.emitted;
        this.nextDoublingAt = this.emitted + Math.max(1, Math.floor(remaining / 2));
      }
    } else {
      this.dropped += batch.count;
    }
  }

  #addToBatch(index: number, facts: EventFacts, time: number, gapMs: number): void {
    let pending = this.pending;
    if (
      pending &&
      (pending.deltaType !== facts.name ||
        pending.outputIndex !== facts.outputIndex ||
        pending.contentIndex !== facts.contentIndex ||
        pending.itemId !== facts.itemId ||
        pending.jsonPath !== facts.jsonPath)
    ) {
      this.flushBatch(PRIORITY_BATCH);
      pending = undefined;
    }
    if (!pending) {
      pending = {
        deltaType: facts.name,
        outputIndex: facts.outputIndex,
        contentIndex: facts.contentIndex,
        itemId: facts.itemId,
        jsonPath: facts.jsonPath,
        count: 0,
        firstIndex: index,
        lastIndex: index,
        firstSequence: facts.sequenceNumber,
        lastSequence: facts.sequenceNumber,
        characters: 0,
        startTime: time,
        lastTime: time,
        maxGapMs: 0,
        text: this.captureContent ? [] : undefined,
        textLength: 0,
      };
      this.pending = pending;
      latestOfShape.batch = pending;
    } else if (gapMs > pending.maxGapMs) {
      pending.maxGapMs = gapMs;
    }
    pending.count += 1;
    pending.lastIndex = index;
    if (facts.sequenceNumber !== undefined) pending.lastSequence = facts.sequenceNumber;
    pending.characters += facts.characters;
    pending.lastTime = time;
    // Past the cap the text would be cut anyway; do not keep it.
    if (
      pending.text &&
      facts.deltaText !== undefined &&
      pending.textLength <= this.maxContentLength
    ) {
      pending.text.push(facts.deltaText);
      pending.textLength += facts.deltaText.length;
    }
    // With one batch slot left, the last batch absorbs every further delta until the next
    // boundary, so no stream is too long to be counted.
    if (pending.count >= this.batchLimit && this.emitted < this.limitFor[PRIORITY_BATCH] - 1) {
      this.flushBatch(PRIORITY_BATCH);
    }
  }

  #eventAttributes(
    event: StreamEventInput,
    facts: EventFacts,
    time: number,
    gapMs: number,
  ): Attributes {
    const result: Attributes = {
      [ATTR_TAPEDECK_EVENT_INDEX]: event.index,
      [ATTR_SSE_EVENT]: event.type,
      [ATTR_TAPEDECK_GAP_MS]: gapMs,
      [ATTR_TAPEDECK_ELAPSED_MS]: time - this.startTime,
      [ATTR_TAPEDECK_DATA_LENGTH]: event.data.length,
    };
    if (event.id !== '') result[ATTR_SSE_ID] = event.id;
    if (facts.sequenceNumber !== undefined) {
      result[ATTR_TAPEDECK_SEQUENCE_NUMBER] = facts.sequenceNumber;
    }
    if (facts.outputIndex !== undefined) result[ATTR_TAPEDECK_OUTPUT_INDEX] = facts.outputIndex;
    if (facts.contentIndex !== undefined) result[ATTR_TAPEDECK_CONTENT_INDEX] = facts.contentIndex;
    if (facts.itemId !== undefined) result[ATTR_TAPEDECK_ITEM_ID] = facts.itemId;
    if (facts.itemType !== undefined) result[ATTR_TAPEDECK_ITEM_TYPE] = facts.itemType;
    if (facts.chunkType !== undefined) result[ATTR_OPPER_CHUNK_TYPE] = facts.chunkType;
    if (facts.jsonPath !== undefined) result[ATTR_OPPER_JSON_PATH] = facts.jsonPath;
    if (facts.errorCode !== undefined) result[ATTR_TAPEDECK_ERROR_CODE] = facts.errorCode;
    if (facts.errorMessage !== undefined) result[ATTR_TAPEDECK_ERROR_MESSAGE] = facts.errorMessage;
    if (facts.invalid) result['tapedeck.data_invalid'] = true;
    return result;
  }
}

/**
 * Starts the span for one stream and returns the calls that feed it. Shared by the live
 * paths (fetch, stream) and by traceTape, so a replayed tape yields the same spans.
 */
export function createStreamSpan(config: StreamSpanConfig): StreamSpan {
  const { tracer, instruments, options, startTime } = config;
  const mode: SpanEventsMode = options.events ?? 'coalesce';
  const maxSpanEvents = Math.max(1, options.maxSpanEvents ?? DEFAULT_MAX_SPAN_EVENTS);
  const baseBatchSize = Math.max(1, options.deltaBatchSize ?? DEFAULT_DELTA_BATCH_SIZE);
  const outputItemSpans = options.outputItemSpans ?? true;
  const captureContent = options.captureContent ?? captureContentFromEnvironment();
  const maxContentLength = Math.max(1, options.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH);
  // Slots kept free for the end (final batch, terminal, error, stream end), and slots batches
  // leave for lifecycle events, scaled down when the limit is small.
  const endReserve = Math.min(4, Math.floor(maxSpanEvents / 4));
  const lifecycleReserve = Math.min(24, Math.floor(maxSpanEvents / 4));
  const limitFor = [
    maxSpanEvents,
    maxSpanEvents - endReserve,
    maxSpanEvents - endReserve - lifecycleReserve,
  ] as const;

  const request = describeRequest(config.request);
  const operationName = options.operationName ?? GEN_AI_OPERATION_NAME_VALUE_CHAT;
  const requestModel = request.model;
  let providerName =
    options.providerName ??
    providerNameFor({ serverAddress: request.serverAddress, family: options.family });

  const attributes: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: operationName,
    [ATTR_GEN_AI_REQUEST_STREAM]: true,
    ...config.attributes,
  };
  if (providerName) attributes[ATTR_GEN_AI_PROVIDER_NAME] = providerName;
  if (requestModel) attributes[ATTR_GEN_AI_REQUEST_MODEL] = requestModel;
  if (request.serverAddress) attributes[ATTR_SERVER_ADDRESS] = request.serverAddress;
  if (request.serverPort !== undefined) attributes[ATTR_SERVER_PORT] = request.serverPort;
  if (config.request.method) attributes[ATTR_HTTP_REQUEST_METHOD] = config.request.method;
  if (options.family) attributes[ATTR_TAPEDECK_STREAM_FAMILY] = options.family;

  const parentContext = config.parentContext ?? contextApi.active();
  const span = tracer.startSpan(
    requestModel ? `${operationName} ${requestModel}` : operationName,
    { kind: SpanKind.CLIENT, attributes, startTime, links: config.links },
    parentContext,
  );
  const spanContext = trace.setSpan(parentContext, span);

  let terminalType: string | undefined;
  let terminalOutcome: 'completed' | 'incomplete' | 'failed' | undefined;
  let upstreamError: { code: string; message?: string } | undefined;
  let responseId: string | undefined;
  let upstreamSpanId: string | undefined;
  const finishReasons: string[] = [];
  let usage:
    | { input?: number; output?: number; cachedInput?: number; reasoningOutput?: number }
    | undefined;
  const items = new Map<number, OutputItemState>();
  // Content capture for the families without output items.
  const chatText: string[] = [];
  const chatToolCalls = new Map<number, { id?: string; name?: string; arguments: string[] }>();
  const opperText: string[] = [];
  let opperJson: unknown;

  function itemState(outputIndex: number): OutputItemState {
    let state = items.get(outputIndex);
    if (!state) {
      state = { text: [], arguments: [], reasoning: [], refusal: [] };
      items.set(outputIndex, state);
    }
    return state;
  }

  function readUsage(value: unknown) {
    if (!isRecord(value)) return;
    const input = numberOrUndefined(value.input_tokens) ?? numberOrUndefined(value.prompt_tokens);
    const output =
      numberOrUndefined(value.output_tokens) ?? numberOrUndefined(value.completion_tokens);
    const inputDetails = value.input_tokens_details ?? value.prompt_tokens_details;
    const outputDetails = value.output_tokens_details ?? value.completion_tokens_details;
    usage = {
      input,
      output,
      cachedInput: isRecord(inputDetails)
        ? numberOrUndefined(inputDetails.cached_tokens)
        : undefined,
      reasoningOutput: isRecord(outputDetails)
        ? numberOrUndefined(outputDetails.reasoning_tokens)
        : undefined,
    };
  }

  function readResponseObject(response: unknown) {
    if (!isRecord(response)) return;
    const id = stringOrUndefined(response.id);
    if (id) responseId = id;
    const model = stringOrUndefined(response.model);
    if (model) live.responseModel = model;
    if (response.usage) readUsage(response.usage);
  }

  function startItemSpan(outputIndex: number, state: OutputItemState, time: number) {
    if (!outputItemSpans || state.span) return;
    const itemAttributes: Attributes = { [ATTR_TAPEDECK_OUTPUT_INDEX]: outputIndex };
    if (state.id) itemAttributes[ATTR_TAPEDECK_ITEM_ID] = state.id;
    if (state.type) itemAttributes[ATTR_TAPEDECK_ITEM_TYPE] = state.type;
    if (state.type === 'function_call') {
      itemAttributes[ATTR_GEN_AI_TOOL_TYPE] = 'function';
      if (state.callId) itemAttributes[ATTR_GEN_AI_TOOL_CALL_ID] = state.callId;
      if (state.name) itemAttributes[ATTR_GEN_AI_TOOL_NAME] = state.name;
    }
    const name = ['output_item', state.type ?? 'unknown', state.name].filter(Boolean).join(' ');
    state.span = tracer.startSpan(
      name,
      { kind: SpanKind.INTERNAL, attributes: itemAttributes, startTime: time },
      spanContext,
    );
  }

  function describeItem(state: OutputItemState, item: unknown) {
    if (!isRecord(item)) return;
    state.type = stringOrUndefined(item.type) ?? state.type;
    state.id = stringOrUndefined(item.id) ?? state.id;
    state.name = stringOrUndefined(item.name) ?? state.name;
    state.callId = stringOrUndefined(item.call_id) ?? state.callId;
  }

  function openResponsesFacts(
    value: Record<string, unknown>,
    event: StreamEventInput,
    time: number,
  ) {
    const type = stringOrUndefined(value.type) ?? event.type;
    const facts: EventFacts = {
      name: type,
      category: 'lifecycle',
      characters: 0,
      sequenceNumber: numberOrUndefined(value.sequence_number),
      outputIndex: numberOrUndefined(value.output_index),
      contentIndex:
        numberOrUndefined(value.content_index) ?? numberOrUndefined(value.summary_index),
      itemId: stringOrUndefined(value.item_id),
    };
    if (type.endsWith('.delta')) {
      facts.category = 'delta';
      const delta = value.delta;
      if (typeof delta === 'string') {
        facts.characters = delta.length;
        facts.deltaText = delta;
        if (captureContent && facts.outputIndex !== undefined) {
          const state = itemState(facts.outputIndex);
          if (type === 'response.output_text.delta') state.text.push(delta);
          else if (type === 'response.function_call_arguments.delta') state.arguments.push(delta);
          else if (type === 'response.refusal.delta') state.refusal.push(delta);
          else if (type.startsWith('response.reasoning')) state.reasoning.push(delta);
        }
      }
      return facts;
    }
    switch (type) {
      case 'response.created':
      case 'response.in_progress':
      case 'response.queued':
        readResponseObject(value.response);
        break;
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
      case 'response.cancelled': {
        facts.category = 'terminal';
        readResponseObject(value.response);
        const response = isRecord(value.response) ? value.response : {};
        if (type === 'response.completed') {
          terminalOutcome = 'completed';
          finishReasons.push('stop');
        } else if (type === 'response.incomplete') {
          terminalOutcome = 'incomplete';
          const details = response.incomplete_details;
          const reason = isRecord(details) ? stringOrUndefined(details.reason) : undefined;
          finishReasons.push(reason ?? 'incomplete');
        } else {
          terminalOutcome = 'failed';
          facts.category = 'error';
          const error = isRecord(response.error) ? response.error : {};
          facts.errorCode =
            stringOrUndefined(error.code) ?? (type === 'response.failed' ? 'failed' : 'cancelled');
          facts.errorMessage = stringOrUndefined(error.message);
          upstreamError ??= { code: facts.errorCode, message: facts.errorMessage };
          finishReasons.push('error');
        }
        terminalType = type;
        break;
      }
      case 'error': {
        facts.category = 'error';
        facts.errorCode = stringOrUndefined(value.code) ?? 'error';
        facts.errorMessage = stringOrUndefined(value.message);
        upstreamError ??= { code: facts.errorCode, message: facts.errorMessage };
        terminalType = type;
        break;
      }
      case 'response.output_item.added':
      case 'response.output_item.done': {
        if (facts.outputIndex === undefined) break;
        const state = itemState(facts.outputIndex);
        describeItem(state, value.item);
        facts.itemType = state.type;
        facts.itemId ??= state.id;
        if (type === 'response.output_item.added') {
          startItemSpan(facts.outputIndex, state, time);
        } else {
          if (isRecord(value.item)) state.done = value.item;
          if (state.span) {
            // A function call learns its name at `added`; set it again in case it came late.
            if (state.name) state.span.setAttribute(ATTR_GEN_AI_TOOL_NAME, state.name);
            state.span.end(time);
          }
        }
        break;
      }
      default:
        break;
    }
    return facts;
  }

  function chatFacts(value: Record<string, unknown>) {
    const facts: EventFacts = {
      name: 'chat.completion.chunk',
      category: 'lifecycle',
      characters: 0,
    };
    const id = stringOrUndefined(value.id);
    if (id) responseId = id;
    const model = stringOrUndefined(value.model);
    if (model) live.responseModel = model;
    if (value.usage) readUsage(value.usage);
    if (isRecord(value.error)) {
      facts.category = 'error';
      facts.errorCode = String(value.error.code ?? value.error.type ?? 'error');
      facts.errorMessage = stringOrUndefined(value.error.message);
      upstreamError ??= { code: facts.errorCode, message: facts.errorMessage };
      terminalType = 'chat.completion.chunk';
      return facts;
    }
    const choices = Array.isArray(value.choices) ? value.choices : [];
    let characters = 0;
    let text: string | undefined;
    let finished = false;
    for (const choice of choices) {
      if (!isRecord(choice)) continue;
      const finishReason = stringOrUndefined(choice.finish_reason);
      if (finishReason) {
        finished = true;
        finishReasons.push(finishReason);
      }
      const delta = choice.delta;
      if (!isRecord(delta)) continue;
      if (typeof delta.content === 'string' && delta.content.length > 0) {
        characters += delta.content.length;
        text = (text ?? '') + delta.content;
        if (captureContent) chatText.push(delta.content);
      }
      const reasoning = delta.reasoning ?? delta.reasoning_content;
      if (typeof reasoning === 'string') characters += reasoning.length;
      if (Array.isArray(delta.tool_calls)) {
        for (const call of delta.tool_calls) {
          if (!isRecord(call) || !isRecord(call.function)) continue;
          const argumentsText = stringOrUndefined(call.function.arguments) ?? '';
          characters += argumentsText.length;
          if (captureContent) {
            const index = numberOrUndefined(call.index) ?? 0;
            let state = chatToolCalls.get(index);
            if (!state) {
              state = { arguments: [] };
              chatToolCalls.set(index, state);
            }
            state.id = stringOrUndefined(call.id) ?? state.id;
            state.name = stringOrUndefined(call.function.name) ?? state.name;
            state.arguments.push(argumentsText);
          }
        }
      }
    }
    facts.characters = characters;
    facts.deltaText = text;
    if (finished) {
      terminalOutcome ??= 'completed';
    } else if (characters > 0) {
      facts.category = 'delta';
    }
    return facts;
  }

  function opperFacts(value: Record<string, unknown>) {
    const facts: EventFacts = { name: 'opper.chunk', category: 'lifecycle', characters: 0 };
    const spanId = stringOrUndefined(value.span_id);
    if (spanId && !upstreamSpanId) {
      upstreamSpanId = spanId;
      span.setAttribute(ATTR_OPPER_SPAN_ID, spanId);
    }
    facts.chunkType = stringOrUndefined(value.chunk_type);
    facts.jsonPath = stringOrUndefined(value.json_path);
    if (facts.chunkType === 'error') {
      facts.category = 'error';
      facts.errorCode = stringOrUndefined(value.error_type) ?? 'error';
      facts.errorMessage = stringOrUndefined(value.error_message);
      upstreamError ??= { code: facts.errorCode, message: facts.errorMessage };
      terminalType = 'opper.chunk';
      return facts;
    }
    const delta = value.delta;
    if (delta !== undefined && delta !== null) {
      facts.category = 'delta';
      const text = typeof delta === 'string' ? delta : String(delta);
      facts.characters = text.length;
      facts.deltaText = text;
      if (captureContent) {
        if (facts.jsonPath) opperJson = setJsonPath(opperJson, facts.jsonPath, delta);
        else opperText.push(text);
      }
    }
    return facts;
  }

  function factsFor(event: StreamEventInput, time: number): EventFacts {
    const data = event.data;
    if (data === '[DONE]') {
      terminalType ??= '[DONE]';
      if (live.family === 'chat-completions') terminalOutcome ??= 'completed';
      return { name: '[DONE]', category: 'terminal', characters: 0 };
    }
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      return {
        name: event.type,
        category: live.family === 'sse' ? 'delta' : 'lifecycle',
        characters: data.length,
        invalid: live.family !== 'sse',
      };
    }
    if (!isRecord(value)) {
      return { name: event.type, category: 'lifecycle', characters: 0, invalid: true };
    }
    switch (live.family) {
      case 'openresponses':
        return openResponsesFacts(value, event, time);
      case 'chat-completions':
        return chatFacts(value);
      case 'opper':
        return opperFacts(value);
      default:
        return { name: event.type, category: 'delta', characters: data.length, deltaText: data };
    }
  }

  function metricAttributes(): Attributes {
    const result: Attributes = { [ATTR_GEN_AI_OPERATION_NAME]: operationName };
    if (providerName) result[ATTR_GEN_AI_PROVIDER_NAME] = providerName;
    if (requestModel) result[ATTR_GEN_AI_REQUEST_MODEL] = requestModel;
    if (live.responseModel) result[ATTR_GEN_AI_RESPONSE_MODEL] = live.responseModel;
    if (request.serverAddress) result[ATTR_SERVER_ADDRESS] = request.serverAddress;
    if (request.serverPort !== undefined) result[ATTR_SERVER_PORT] = request.serverPort;
    return result;
  }

  function outputMessages(): string | undefined {
    const parts: Array<Record<string, unknown>> = [];
    const cap = (text: string) => truncate(text, maxContentLength);
    if (live.family === 'openresponses') {
      for (const [, state] of [...items.entries()].sort(([a], [b]) => a - b)) {
        const done = state.done;
        if (state.type === 'message') {
          let text = state.text.join('');
          let refusal = state.refusal.join('');
          if (done && Array.isArray(done.content)) {
            const texts: string[] = [];
            const refusals: string[] = [];
            for (const part of done.content) {
              if (!isRecord(part)) continue;
              if (typeof part.text === 'string') texts.push(part.text);
              if (typeof part.refusal === 'string') refusals.push(part.refusal);
            }
            text = texts.join('');
            refusal = refusals.join('') || refusal;
          }
          if (text) parts.push({ type: 'text', content: cap(text) });
          if (refusal) parts.push({ type: 'refusal', content: cap(refusal) });
        } else if (state.type === 'function_call') {
          const argumentsText =
            (done && stringOrUndefined(done.arguments)) ?? state.arguments.join('');
          parts.push({
            type: 'tool_call',
            id: state.callId,
            name: state.name,
            arguments: cap(argumentsText),
          });
        } else if (state.type === 'reasoning') {
          let text = state.reasoning.join('');
          if (done && Array.isArray(done.summary)) {
            text = done.summary
              .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
              .join('\n');
          }
          if (text) parts.push({ type: 'reasoning', content: cap(text) });
        }
      }
    } else if (live.family === 'chat-completions') {
      const text = chatText.join('');
      if (text) parts.push({ type: 'text', content: cap(text) });
      for (const [, call] of [...chatToolCalls.entries()].sort(([a], [b]) => a - b)) {
        parts.push({
          type: 'tool_call',
          id: call.id,
          name: call.name,
          arguments: cap(call.arguments.join('')),
        });
      }
    } else if (live.family === 'opper') {
      const text = opperText.join('');
      if (text) parts.push({ type: 'text', content: cap(text) });
      if (opperJson !== undefined)
        parts.push({ type: 'text', content: cap(JSON.stringify(opperJson)) });
    }
    if (parts.length === 0) return undefined;
    const message: Record<string, unknown> = { role: 'assistant', parts };
    if (finishReasons[0]) message.finish_reason = finishReasons[0];
    return truncate(JSON.stringify([message]), maxContentLength);
  }

  const cold: ColdPaths = {
    detectFamily(event) {
      const family = detectFamily(
        {
          url: config.request.url ?? '',
          method: config.request.method,
          body: config.request.body,
        },
        [event],
      );
      live.family = family;
      span.setAttribute(ATTR_TAPEDECK_STREAM_FAMILY, family);
      if (!options.providerName) {
        const detected = providerNameFor({ serverAddress: request.serverAddress, family });
        if (detected && detected !== providerName) {
          providerName = detected;
          span.setAttribute(ATTR_GEN_AI_PROVIDER_NAME, detected);
        }
      }
    },
    firstEvent(timeMs) {
      span.setAttribute(ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, (timeMs - startTime) / 1000);
      instruments.timeToFirstChunk.record((timeMs - startTime) / 1000, metricAttributes());
    },
    factsFor,
    metricAttributes,
    response(head, timeMs) {
      if (live.ended) return false;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, head.status);
      if (head.status >= 200 && head.status < 300) return true;
      const message = `[tapedeck] upstream answered HTTP ${head.status}${head.statusText ? ` ${head.statusText}` : ''}`;
      span.recordException({ name: 'HttpError', message, code: String(head.status) }, timeMs);
      finish({ reason: 'upstream_error', errorType: String(head.status), message }, timeMs);
      return false;
    },
    end(stop, timeMs) {
      if (live.ended) return;
      // The stream itself decides first: a terminal or error event says how it ended.
      if (upstreamError) {
        finish(
          {
            reason: 'upstream_error',
            errorType: upstreamError.code,
            message: upstreamError.message,
          },
          timeMs,
        );
        return;
      }
      const requiresTerminal =
        live.family === 'openresponses' || live.family === 'chat-completions';
      const terminalSeen = terminalOutcome !== undefined;
      const completedReason: EndReason =
        terminalOutcome === 'incomplete' ? 'incomplete' : 'completed';
      switch (stop.kind) {
        case 'done':
          if (terminalSeen || !requiresTerminal) finish({ reason: completedReason }, timeMs);
          else
            finish(
              {
                reason: 'network_error',
                errorType: 'stream_aborted',
                message: '[tapedeck] the stream closed before its terminal event',
              },
              timeMs,
            );
          return;
        case 'cancel':
        case 'abort':
          finish({ reason: terminalSeen ? completedReason : 'consumer_abort' }, timeMs);
          return;
        case 'idle':
          finish({ reason: terminalSeen ? completedReason : 'idle_timeout' }, timeMs);
          return;
        case 'error':
          if (terminalSeen) {
            finish({ reason: completedReason }, timeMs);
            return;
          }
          span.recordException(toException(stop.error), timeMs);
          finish(
            {
              reason: 'network_error',
              errorType: 'stream_aborted',
              message: `[tapedeck] the stream dropped before its terminal event: ${String((stop.error as Error)?.message ?? stop.error)}`,
            },
            timeMs,
          );
          return;
        case 'rejected':
          span.recordException(toException(stop.error), timeMs);
          finish(
            {
              reason: 'network_error',
              errorType: errorTypeOf(stop.error),
              message: `[tapedeck] the request failed: ${String((stop.error as Error)?.message ?? stop.error)}`,
            },
            timeMs,
          );
          return;
      }
    },
  };
  const live = new LiveStreamSpan(
    {
      span,
      context: spanContext,
      instruments,
      mode,
      limitFor,
      maxContentLength,
      startTime,
      captureContent,
      family: options.family,
      batchLimit: baseBatchSize,
    },
    cold,
  );

  function recordEnd(
    outcome: { reason: EndReason; errorType?: string; message?: string },
    timeMs: number,
  ) {
    if (live.pending) live.flushBatch(PRIORITY_END);
    const endAttributes: Attributes = {
      [ATTR_TAPEDECK_END_REASON]: outcome.reason,
      [ATTR_TAPEDECK_EVENT_INDEX]: live.eventCount,
      [ATTR_TAPEDECK_ELAPSED_MS]: timeMs - startTime,
    };
    if (outcome.errorType) endAttributes[ATTR_ERROR_TYPE] = outcome.errorType;
    live.emit(EVENT_TAPEDECK_STREAM_END, endAttributes, timeMs, PRIORITY_END);

    const final: Attributes = {
      [ATTR_TAPEDECK_END_REASON]: outcome.reason,
      [ATTR_TAPEDECK_EVENT_COUNT]: live.eventCount,
      [ATTR_TAPEDECK_CHUNK_COUNT]: live.chunkCount,
      [ATTR_TAPEDECK_BYTE_COUNT]: live.byteCount,
      [ATTR_TAPEDECK_DELTA_COUNT]: live.deltaCount,
      [ATTR_TAPEDECK_DELTA_CHARACTERS]: live.deltaCharacters,
      [ATTR_TAPEDECK_SPAN_EVENTS_DROPPED]:
        mode === 'all' ? Math.max(0, live.emitted - maxSpanEvents) : live.dropped,
    };
    if (live.family) final[ATTR_TAPEDECK_STREAM_FAMILY] = live.family;
    if (responseId) final[ATTR_GEN_AI_RESPONSE_ID] = responseId;
    if (live.responseModel) final[ATTR_GEN_AI_RESPONSE_MODEL] = live.responseModel;
    if (finishReasons.length > 0) final[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = finishReasons;
    if (usage?.input !== undefined) final[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = usage.input;
    if (usage?.output !== undefined) final[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = usage.output;
    if (usage?.cachedInput) final[ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cachedInput;
    if (usage?.reasoningOutput) {
      final[ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoningOutput;
    }
    if (live.firstDeltaTime !== undefined) {
      final[ATTR_TAPEDECK_TIME_TO_FIRST_DELTA_MS] = live.firstDeltaTime - startTime;
    }
    if (live.gaps.count > 0) {
      final[ATTR_TAPEDECK_GAP_MAX_MS] = live.gaps.maxMs;
      final[ATTR_TAPEDECK_GAP_MEAN_MS] = live.gaps.meanMs;
      final[ATTR_TAPEDECK_GAP_P50_MS] = live.gaps.quantile(0.5);
      final[ATTR_TAPEDECK_GAP_P95_MS] = live.gaps.quantile(0.95);
    }
    if (live.lastSequence !== undefined) {
      final[ATTR_TAPEDECK_SEQUENCE_LAST] = live.lastSequence;
      final[ATTR_TAPEDECK_SEQUENCE_GAPS] = live.sequenceGaps;
    }
    if (terminalType) final[ATTR_TAPEDECK_TERMINAL_EVENT_TYPE] = terminalType;
    if (outcome.errorType) final[ATTR_ERROR_TYPE] = outcome.errorType;
    if (captureContent) {
      const messages = outputMessages();
      if (messages) final[ATTR_GEN_AI_OUTPUT_MESSAGES] = messages;
    }
    span.setAttributes(final);
  }

  function finish(
    outcome: { reason: EndReason; errorType?: string; message?: string },
    timeMs: number,
  ) {
    if (live.ended) return;
    live.ended = true;
    live.endReason = outcome.reason;
    try {
      if (outcome.errorType) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message });
      }
      recordEnd(outcome, timeMs);
    } catch (error) {
      diag.error('[tapedeck] telemetry failed while ending a span; it ends anyway', error);
    }
    // Items still open when the stream stopped end with it.
    for (const item of items.values()) {
      if (!item.span?.isRecording()) continue;
      try {
        if (outcome.errorType) item.span.setStatus({ code: SpanStatusCode.ERROR });
      } finally {
        item.span.end(timeMs);
      }
    }
    span.end(timeMs);
    // This stream may stay reachable as the latest of its shape: drop what it no longer needs.
    items.clear();
    chatText.length = 0;
    chatToolCalls.clear();
    opperText.length = 0;
    opperJson = undefined;
    try {
      const metrics = metricAttributes();
      if (outcome.errorType) metrics[ATTR_ERROR_TYPE] = outcome.errorType;
      instruments.duration.record((timeMs - startTime) / 1000, metrics);
      if (usage?.input !== undefined) {
        instruments.tokenUsage.record(usage.input, {
          ...metrics,
          [ATTR_GEN_AI_TOKEN_TYPE]: 'input',
        });
      }
      if (usage?.output !== undefined) {
        instruments.tokenUsage.record(usage.output, {
          ...metrics,
          [ATTR_GEN_AI_TOKEN_TYPE]: 'output',
        });
      }
    } catch (error) {
      diag.error('[tapedeck] recording the stream metrics failed', error);
    }
    if (options.onStreamEnd) {
      const { traceId, spanId } = span.spanContext();
      const info: StreamEndInfo = {
        traceId,
        spanId,
        endReason: outcome.reason,
        jaegerUrl: jaegerTraceUrl({ traceId, spanId, baseUrl: options.jaegerBaseUrl }),
      };
      try {
        options.onStreamEnd(info);
      } catch (error) {
        diag.error('[tapedeck] onStreamEnd threw', error);
      }
    }
  }

  return live;
}

/** Folds one Opper JSON delta into the value at `path` (`people[0].name`). */
export function setJsonPath(root: unknown, path: string, delta: unknown): unknown {
  const keys: Array<string | number> = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) keys.push(Number(match[2]));
    else if (match[1] !== undefined) keys.push(match[1]);
  }
  if (keys.length === 0) {
    return typeof delta === 'string' && typeof root === 'string' ? root + delta : delta;
  }
  const top: unknown = root ?? (typeof keys[0] === 'number' ? [] : {});
  let container = top as Record<string | number, unknown>;
  for (let index = 0; index < keys.length - 1; index += 1) {
    const key = keys[index] as string | number;
    const nextKey = keys[index + 1];
    let next = container[key];
    if (typeof next !== 'object' || next === null) {
      next = typeof nextKey === 'number' ? [] : {};
      container[key] = next;
    }
    container = next as Record<string | number, unknown>;
  }
  const last = keys[keys.length - 1] as string | number;
  const existing = container[last];
  container[last] =
    typeof delta === 'string' && typeof existing === 'string' ? existing + delta : delta;
  return top;
}

import {
  context as contextApi,
  diag,
  type Meter,
  type MeterProvider,
  metrics,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { createParser, decodeUtf8, type ParsedEvent, type SseParser } from '@tapedeck/sse';
import { observeStream, type StreamObserver, type Tape } from '@tapedeck/types';
import { ATTR_TAPEDECK_TAPE_SPAN_ID, ATTR_TAPEDECK_TAPE_TRACE_ID } from './semconv.js';
import {
  createInstruments,
  createStreamSpan,
  type StreamEventInput,
  type StreamInstruments,
  type StreamSpan,
  type StreamStop,
} from './stream-span.js';
import type {
  EndReason,
  InstrumentInternals,
  InstrumentOptions,
  InstrumentStreamOptions,
} from './types.js';
import { describeRequest, jaegerTraceUrl, latestOfShape } from './utils.js';

const INSTRUMENTATION_NAME = '@tapedeck/otel';
const INSTRUMENTATION_VERSION = '0.1.0';
const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

type Fetch = typeof globalThis.fetch;

const tracers = new WeakMap<TracerProvider, Tracer>();
const instrumentsByProvider = new WeakMap<MeterProvider, StreamInstruments>();

// Looked up per stream, so a provider registered after instrumenting is still used.
function tracerFor(options: InstrumentOptions): Tracer {
  const provider = options.tracerProvider ?? trace.getTracerProvider();
  let tracer = tracers.get(provider);
  if (!tracer) {
    tracer = provider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    tracers.set(provider, tracer);
  }
  return tracer;
}

function instrumentsFor(options: InstrumentOptions): StreamInstruments {
  const provider = options.meterProvider ?? metrics.getMeterProvider();
  let instruments = instrumentsByProvider.get(provider);
  if (!instruments) {
    const meter: Meter = provider.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    instruments = createInstruments(meter);
    instrumentsByProvider.set(provider, instruments);
  }
  return instruments;
}

// Read once: `timeOrigin` is fixed for the process, and its getter costs as much as `now()`,
// which runs for every chunk.
const timeOriginMs = performance.timeOrigin;

function defaultNow(): number {
  return timeOriginMs + performance.now();
}

function defaultSetTimer(callback: () => void, delayMs: number): () => void {
  const handle = setTimeout(callback, delayMs);
  // A forgotten stream must not keep the process alive.
  handle.unref?.();
  return () => clearTimeout(handle);
}

function clockOf(internals: InstrumentInternals | undefined) {
  return {
    now: internals?.now ?? defaultNow,
    setTimer: internals?.setTimer ?? defaultSetTimer,
  };
}

// Telemetry must never reach the stream: anything it throws goes to OTel's diag logger.
function reportTelemetryError(what: string, error: unknown): void {
  diag.error(`[tapedeck] telemetry failed while ${what}; the stream is unaffected`, error);
}

function safely(what: string, run: () => void): void {
  try {
    run();
  } catch (error) {
    reportTelemetryError(what, error);
  }
}

function isEventStream(headers: Headers): boolean {
  return (headers.get('content-type') ?? '').toLowerCase().includes('text/event-stream');
}

// SSE parsers are reused across streams. A parser is a set of closures, and optimized code that
// was specialized on one stream's closures is discarded once that stream is collected: with a
// fresh parser per stream, every stream after a full GC compiled the parser again (on a
// background thread, but still CPU), which cost more than the parsing itself. A pooled parser's
// `onEvent` forwards to whichever body it serves now.
interface PooledParser {
  readonly parser: SseParser;
  observer: BodyObserver | undefined;
}

const idleParsers: PooledParser[] = [];
const MAX_IDLE_PARSERS = 16;

function createPooledParser(): PooledParser {
  const entry: { parser?: SseParser; observer: BodyObserver | undefined } = {
    observer: undefined,
  };
  entry.parser = createParser({
    mode: 'framing',
    onEvent(event) {
      entry.observer?.handleEvent(event);
    },
    onError(error) {
      diag.debug('[tapedeck] SSE parse problem in an instrumented stream', error);
    },
  });
  return entry as PooledParser;
}

function acquireParser(observer: BodyObserver): PooledParser {
  const entry = idleParsers.pop() ?? createPooledParser();
  entry.observer = observer;
  return entry;
}

function releaseParser(entry: PooledParser): void {
  entry.observer = undefined;
  // A stream that stopped mid-event must not leave its bytes to the next one.
  entry.parser.reset();
  if (idleParsers.length < MAX_IDLE_PARSERS) idleParsers.push(entry);
}

/** How the chunks of a stream that are exactly one event start: see `#dispatchWholeChunk`. */
interface WholeChunkFrame {
  /** `event: <type>\ndata: ` (or `data: ` for `message`). */
  readonly prefix: string;
  readonly type: string;
}

const LINE_FEED = 10;
// A single event bigger than this goes through the parser (and its size limit).
const MAX_WHOLE_CHUNK_BYTES = 1024 * 1024;

// Telemetry is recorded for a few chunks at a time, after the consumer was handed them: the
// per-event code then runs in a tight loop instead of between the stream machinery's steps,
// which cost it about 400 ns per event in the benchmark (its code and data kept being evicted).
// Bounded so that telemetry stays timely and little is held: a batch of this many chunks or
// bytes is recorded when the consumer asks for the next chunk (so the chunk that fills it is not
// held up by it), chunks this old at once; the rest whenever the stream stops, however it stops.
// A chunk is only read, never changed; a consumer that overwrites a chunk it was handed changes
// what telemetry reads of it, never what the stream delivers.
const MAX_PENDING_CHUNKS = 64;
// Room for chunks of reads issued at once, before the consumer came back for more.
const PENDING_CAPACITY = 2 * MAX_PENDING_CHUNKS;
const MAX_PENDING_BYTES = 64 * 1024;
const MAX_PENDING_MS = 100;

/**
 * The data value of a chunk that is exactly `prefix` + value + LF LF, or undefined when the
 * chunk is anything else. The chunk is decoded first and checked as text: decoding keeps every
 * ASCII byte as its own character (an invalid sequence never swallows a CR or LF), so the text
 * has its line breaks exactly where the bytes do, and string searches are cheaper than byte ones.
 */
function wholeChunkValue(chunk: Uint8Array, prefix: string): string | undefined {
  const text = wholeChunkText(chunk, prefix);
  return text === undefined ? undefined : frameValue(text, prefix);
}

/** The text of a chunk that may be `prefix` + value + LF LF, without the LF LF. */
function wholeChunkText(chunk: Uint8Array, prefix: string): string | undefined {
  const length = chunk.length;
  if (length < prefix.length + 2 || length > MAX_WHOLE_CHUNK_BYTES) return undefined;
  if (chunk[length - 1] !== LINE_FEED || chunk[length - 2] !== LINE_FEED) return undefined;
  return decodeUtf8(chunk, 0, length - 2);
}

/** The value of `text` (see {@link wholeChunkText}) if it is `prefix` and one line. */
function frameValue(text: string, prefix: string): string | undefined {
  if (text.lastIndexOf(prefix, 0) !== 0) return undefined;
  // A line break inside the value would make it more than one line.
  const valueStart = prefix.length;
  if (text.indexOf('\n', valueStart) !== -1 || text.indexOf('\r', valueStart) !== -1) {
    return undefined;
  }
  return text.slice(valueStart);
}

/** The frame of `chunk`, which the parser read as exactly one event of `type`, if it has one. */
function wholeChunkFrameOf(chunk: Uint8Array, type: string): WholeChunkFrame | undefined {
  const prefix = `event: ${type}\ndata: `;
  if (wholeChunkValue(chunk, prefix) !== undefined) return { prefix, type };
  if (type === 'message' && wholeChunkValue(chunk, 'data: ') !== undefined) {
    return { prefix: 'data: ', type };
  }
  return undefined;
}

/**
 * The telemetry of one body, which `observeStream` (@tapedeck/types) reads on the consumer's
 * demand and shows each chunk on its way: no `tee()`, nothing read ahead, no bytes buffered. A
 * class, not closures, for the reason the parsers are pooled (above).
 */
class BodyObserver implements StreamObserver {
  readonly #streamSpan: StreamSpan;
  readonly #now: () => number;
  readonly #setTimer: (callback: () => void, delayMs: number) => () => void;
  readonly #idleTimeoutMs: number;
  readonly #signal: AbortSignal | null | undefined;
  #parser: PooledParser | undefined;
  /** When the chunk being parsed arrived: the time of every event it dispatches. */
  #chunkTime = 0;
  // Chunks handed on whose telemetry is not recorded yet, and when each arrived: see
  // MAX_PENDING_CHUNKS. Fixed-size and typed from the start: arrays that begin empty change
  // their element kind on the first push, and every stream would then deoptimize the code that
  // reads them.
  readonly #pendingChunks: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(
    PENDING_CAPACITY,
  ).fill(undefined);
  readonly #pendingTimes = new Float64Array(PENDING_CAPACITY);
  #pendingCount = 0;
  /** A full batch waits for the consumer's next read (see `#observe`). */
  #recordDue = false;
  #pendingBytes = 0;
  // One timer per stream, re-armed only when it fires: re-arming on every chunk would cost more
  // than the rest of the per-chunk telemetry. Idle means nobody is reading: a slow upstream with
  // a consumer waiting on a read is not idle.
  #cancelIdle: (() => void) | undefined;
  /** Reads asked for and not answered yet. */
  #reads = 0;
  #feeding = false;
  #lastActivity: number;
  // The chunk-as-one-event fast path (see #dispatchWholeChunk).
  /** Bytes fed to the parser (the chunk being fed included): its offsets count these only. */
  #fedBytes = 0;
  #feedingChunk: Uint8Array | undefined;
  /** Where the last event the parser dispatched ends, in the parser's offsets. */
  #lastEventEnd = -1;
  #lastEventId = '';
  /**
   * Events dispatched so far, by the parser and the fast path alike: the next event's index.
   * The parser's own index does not count the fast path's events.
   */
  #eventCount = 0;
  #wholeChunkFrame: WholeChunkFrame | undefined;
  #unframedType: string | undefined;
  // Bound once per stream: the timer and signal callbacks.
  readonly #onAbort: () => void;
  readonly #onIdle: () => void;

  constructor(
    streamSpan: StreamSpan,
    options: InstrumentOptions,
    signal: AbortSignal | null | undefined,
  ) {
    const { now, setTimer } = clockOf(options._internal);
    this.#streamSpan = streamSpan;
    this.#now = now;
    this.#setTimer = setTimer;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#signal = signal;
    this.#lastActivity = now();
    this.#onAbort = this.#handleAbort.bind(this);
    this.#onIdle = this.#handleIdle.bind(this);
    this.#parser = acquireParser(this);
    latestOfShape.body = this;
    if (signal?.aborted) this.#onAbort();
    else signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (this.#idleTimeoutMs > 0 && !streamSpan.ended) this.#armIdle(this.#idleTimeoutMs);
  }

  onRead(): void {
    // The consumer is back for more: it has every chunk handed on so far.
    if (this.#recordDue) this.#recordPending();
    this.#reads += 1;
  }

  onChunk(chunk: Uint8Array): void {
    this.#reads = Math.max(0, this.#reads - 1);
    this.#observe(chunk, this.#now());
  }

  onEnd(): void {
    this.#recordPending();
    const parser = this.#parser;
    if (parser) safely('flushing the parser', () => parser.parser.end());
    this.#stop({ kind: 'done' });
    this.#releaseParser();
  }

  onError(error: unknown): void {
    this.#stop(this.#signal?.aborted ? { kind: 'abort', error } : { kind: 'error', error });
    this.#releaseParser();
  }

  onCancel(): void {
    this.#stop({ kind: 'cancel' });
    this.#releaseParser();
  }

  /** An SSE event from the pooled parser, dispatched while the current chunk is fed. */
  handleEvent(event: ParsedEvent): void {
    // No closure per event: this runs for every SSE event of every stream.
    try {
      // The parser did not see the chunks the fast path took: its index runs behind by those.
      const index = this.#eventCount;
      if (event.index !== index) event.index = index;
      this.#eventCount = index + 1;
      this.#lastEventEnd = event.byteEnd;
      this.#lastEventId = event.id;
      const chunk = this.#feedingChunk;
      // The whole chunk being fed, which ends at #fedBytes.
      if (
        chunk !== undefined &&
        event.byteEnd === this.#fedBytes &&
        event.byteStart === this.#fedBytes - chunk.length &&
        this.#wholeChunkFrame?.type !== event.type &&
        this.#unframedType !== event.type
      ) {
        const frame = wholeChunkFrameOf(chunk, event.type);
        // Written some other way (`event:x`, CRLF…): do not try that type again.
        if (frame === undefined) this.#unframedType = event.type;
        else this.#wholeChunkFrame = frame;
      }
      this.#streamSpan.event(event, this.#chunkTime);
    } catch (error) {
      reportTelemetryError('recording an event', error);
    }
  }

  /**
   * The fast path for a chunk that is exactly one event laid out like one the parser already
   * read from a chunk of its own (`event: <type>\ndata: <value>\n\n`): the event is built from
   * the bytes without the parser, which costs several times more for one small chunk. Taken
   * only when the parser stands at an event boundary that ends the bytes it was fed, so its
   * state (the last event id included) is exactly what it would be after parsing this chunk,
   * apart from the offsets and the event index, which {@link handleEvent} makes up for.
   */
  #dispatchWholeChunk(chunk: Uint8Array): boolean {
    const frame = this.#wholeChunkFrame;
    if (frame === undefined || this.#lastEventEnd !== this.#fedBytes) return false;
    const prefix = frame.prefix;
    const text = wholeChunkText(chunk, prefix);
    if (text === undefined) return false;
    const index = this.#eventCount;
    const streamSpan = this.#streamSpan;
    // A delta like the ones before it is read from the text itself, frame check included.
    let taken: boolean;
    try {
      taken = streamSpan.wholeChunkDelta(text, prefix, frame.type, index, this.#chunkTime);
    } catch (error) {
      // Recorded as far as it got, like an event whose recording threw: not parsed again.
      reportTelemetryError('recording an event', error);
      taken = true;
    }
    if (!taken) {
      const data = frameValue(text, prefix);
      if (data === undefined) return false;
      const event: StreamEventInput = { type: frame.type, data, id: this.#lastEventId, index };
      try {
        streamSpan.event(event, this.#chunkTime);
      } catch (error) {
        reportTelemetryError('recording an event', error);
      }
    }
    this.#eventCount = index + 1;
    return true;
  }

  #observe(chunk: Uint8Array, arrivedAt: number): void {
    if (this.#streamSpan.ended || !this.#parser) return;
    this.#lastActivity = arrivedAt;
    const count = this.#pendingCount;
    this.#pendingChunks[count] = chunk;
    this.#pendingTimes[count] = arrivedAt;
    this.#pendingCount = count + 1;
    this.#pendingBytes += chunk.byteLength;
    if (count + 1 >= PENDING_CAPACITY) {
      // Reads issued without waiting for each other outran the recording: record now.
      this.#recordPending();
    } else if (count + 1 >= MAX_PENDING_CHUNKS || this.#pendingBytes >= MAX_PENDING_BYTES) {
      // A full batch is recorded when the consumer comes back for more: it has this chunk then.
      this.#recordDue = true;
    } else if (arrivedAt - (this.#pendingTimes[0] as number) >= MAX_PENDING_MS) {
      // A slow stream: a chunk or two, recorded now so telemetry keeps up with it.
      this.#recordPending();
    }
  }

  /** Records the telemetry of the chunks handed on since the last time, in order. */
  #recordPending(): void {
    const count = this.#pendingCount;
    if (count === 0) return;
    // Emptied first: whatever recording does, nothing is recorded twice.
    this.#pendingCount = 0;
    this.#recordDue = false;
    this.#pendingBytes = 0;
    const pendingChunks = this.#pendingChunks;
    const pendingTimes = this.#pendingTimes;
    for (let index = 0; index < count; index += 1) {
      const chunk = pendingChunks[index] as Uint8Array;
      // The consumer has it; telemetry must not keep it alive.
      pendingChunks[index] = undefined;
      this.#record(chunk, pendingTimes[index] as number);
    }
  }

  #record(chunk: Uint8Array, arrivedAt: number): void {
    const streamSpan = this.#streamSpan;
    const parser = this.#parser;
    if (streamSpan.ended || !parser) return;
    this.#chunkTime = arrivedAt;
    this.#feeding = true;
    try {
      streamSpan.chunk(chunk.byteLength, arrivedAt);
      if (!this.#dispatchWholeChunk(chunk)) {
        this.#feedingChunk = chunk;
        this.#fedBytes += chunk.byteLength;
        parser.parser.feed(chunk);
      }
    } catch (error) {
      reportTelemetryError('recording a chunk', error);
    }
    this.#feedingChunk = undefined;
    this.#feeding = false;
    // Something ended the span while this chunk was parsed: the parser is free again.
    if (streamSpan.ended) this.#releaseParser();
  }

  #releaseParser(): void {
    const parser = this.#parser;
    // Never hand a parser on while it is still inside `feed`; the end of that feed frees it.
    if (!parser || this.#feeding) return;
    this.#parser = undefined;
    releaseParser(parser);
  }

  #stop(reason: StreamStop): void {
    // Whatever the consumer was handed is in the span before it ends.
    this.#recordPending();
    this.#cancelIdle?.();
    this.#cancelIdle = undefined;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    safely('ending the span', () => this.#streamSpan.end(reason, this.#now()));
  }

  #handleAbort(): void {
    this.#stop({ kind: 'abort', error: this.#signal?.reason });
  }

  #armIdle(delayMs: number): void {
    this.#cancelIdle = this.#setTimer(this.#onIdle, delayMs);
  }

  #handleIdle(): void {
    this.#cancelIdle = undefined;
    if (this.#streamSpan.ended) return;
    if (this.#reads > 0) {
      this.#armIdle(this.#idleTimeoutMs);
      return;
    }
    const quietMs = this.#now() - this.#lastActivity;
    if (quietMs < this.#idleTimeoutMs) this.#armIdle(this.#idleTimeoutMs - quietMs);
    else this.#stop({ kind: 'idle' });
  }
}

/**
 * Reads `body` on the consumer's demand and hands each chunk on before telemetry sees it.
 * No `tee()`: nothing is read ahead of the consumer and no bytes are buffered.
 */
function observeBody(
  body: ReadableStream<Uint8Array>,
  streamSpan: StreamSpan,
  {
    options,
    signal,
  }: {
    options: InstrumentOptions;
    signal?: AbortSignal | null;
  },
): ReadableStream<Uint8Array> {
  return observeStream(body, new BodyObserver(streamSpan, options, signal));
}

function rewrapResponse(response: Response, body: ReadableStream<Uint8Array>): Response {
  const wrapped = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // Clients read these; a constructed Response would report '' and false.
  Object.defineProperty(wrapped, 'url', { value: response.url });
  Object.defineProperty(wrapped, 'redirected', { value: response.redirected });
  return wrapped;
}

function bodyText(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  if (body instanceof ArrayBuffer) return new TextDecoder().decode(new Uint8Array(body));
  return undefined;
}

async function describeFetchCall(
  input: Parameters<Fetch>[0],
  init: Parameters<Fetch>[1],
): Promise<{
  url: string;
  method: string;
  body?: string;
  accept: string | null;
  signal?: AbortSignal | null;
}> {
  const request = input instanceof Request ? input : undefined;
  const url = request ? request.url : input instanceof URL ? input.href : String(input);
  const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
  const headers = new Headers(init?.headers ?? request?.headers);
  let body = bodyText(init?.body);
  if (body === undefined && request && request.body !== null && init?.body === undefined) {
    // Only JSON bodies carry the model; reading a clone leaves the request untouched.
    if ((request.headers.get('content-type') ?? '').includes('json')) {
      try {
        body = await request.clone().text();
      } catch {
        body = undefined;
      }
    }
  }
  return {
    url,
    method,
    body,
    accept: headers.get('accept'),
    signal: init?.signal ?? request?.signal,
  };
}

/**
 * Wraps a `fetch` so every streaming request gets a span: started before the request is sent
 * (and active while the inner fetch runs, so `@tapedeck/recorder` keys its tape by it), fed by
 * the SSE events as the consumer reads them, and ended exactly once however the stream stops.
 * Requests that do not look like streams pass through untouched unless their response turns
 * out to be `text/event-stream`.
 *
 * @example
 * ```ts
 * const tracedFetch = instrumentFetch(fetch, { events: 'coalesce' });
 * const client = new OpenAI({ fetch: tracedFetch });
 * ```
 */
export function instrumentFetch(fetchFunction: Fetch, options: InstrumentOptions = {}): Fetch {
  const { now } = clockOf(options._internal);
  const instrumented = async (
    input: Parameters<Fetch>[0],
    init?: Parameters<Fetch>[1],
  ): Promise<Response> => {
    const startTime = now();
    let call: Awaited<ReturnType<typeof describeFetchCall>> | undefined;
    let streamSpan: StreamSpan | undefined;
    // The span starts when the request was sent, whether it is started then or only once the
    // response turns out to be a stream.
    const startSpan = (request: NonNullable<typeof call>) =>
      createStreamSpan({
        tracer: tracerFor(options),
        instruments: instrumentsFor(options),
        options,
        request,
        startTime,
      });
    try {
      call = await describeFetchCall(input, init);
      const looks = describeRequest({ url: call.url, body: call.body, accept: call.accept });
      if (looks.looksStreaming) streamSpan = startSpan(call);
    } catch (error) {
      diag.error('[tapedeck] could not start a stream span; the request goes on untraced', error);
    }

    let response: Response;
    try {
      response = streamSpan
        ? await contextApi.with(streamSpan.context, () => fetchFunction(input, init))
        : await fetchFunction(input, init);
    } catch (error) {
      const span = streamSpan;
      if (span) {
        const aborted = call?.signal?.aborted === true;
        safely('ending the span', () =>
          span.end(aborted ? { kind: 'abort', error } : { kind: 'rejected', error }, now()),
        );
      }
      throw error;
    }

    try {
      const streaming = isEventStream(response.headers);
      if (!streamSpan) {
        if (!streaming || !call || response.body === null) return response;
        // Not recognisable from the request, but the response is a stream: trace it from
        // the moment the request was sent.
        streamSpan = startSpan(call);
      }
      const span = streamSpan;
      if (!span.response({ status: response.status, statusText: response.statusText }, now())) {
        return response;
      }
      if (!streaming || response.body === null) {
        span.end({ kind: 'done' }, now());
        return response;
      }
      return rewrapResponse(
        response,
        observeBody(response.body, span, { options, signal: call?.signal }),
      );
    } catch (error) {
      diag.error('[tapedeck] could not instrument a response; it is returned untraced', error);
      return response;
    }
  };
  return instrumented as Fetch;
}

/**
 * Traces a stream obtained some other way than {@link instrumentFetch}: give it the
 * `Response` (its status is checked) or the body stream, and get back the same kind of
 * object to read instead. The span starts now (or at `startTime`).
 *
 * @example
 * ```ts
 * const traced = instrumentStream(response, { request: { url, method: 'POST', body } });
 * for await (const chunk of traced.body!) process(chunk);
 * ```
 */
export function instrumentStream(response: Response, options?: InstrumentStreamOptions): Response;
export function instrumentStream(
  stream: ReadableStream<Uint8Array>,
  options?: InstrumentStreamOptions,
): ReadableStream<Uint8Array>;
export function instrumentStream(
  responseOrStream: Response | ReadableStream<Uint8Array>,
  options: InstrumentStreamOptions = {},
): Response | ReadableStream<Uint8Array> {
  const { now } = clockOf(options._internal);
  let streamSpan: StreamSpan;
  try {
    streamSpan = createStreamSpan({
      tracer: tracerFor(options),
      instruments: instrumentsFor(options),
      options,
      request: {
        url:
          options.request?.url ??
          (responseOrStream instanceof Response ? responseOrStream.url : undefined),
        method: options.request?.method,
        body: options.request?.body,
      },
      startTime: options.startTime ?? now(),
      parentContext: options.parentContext,
    });
  } catch (error) {
    diag.error('[tapedeck] could not start a stream span; the stream goes on untraced', error);
    return responseOrStream;
  }
  if (!(responseOrStream instanceof Response)) {
    return observeBody(responseOrStream, streamSpan, { options });
  }
  const response = responseOrStream;
  if (!streamSpan.response({ status: response.status, statusText: response.statusText }, now())) {
    return response;
  }
  if (response.body === null) {
    streamSpan.end({ kind: 'done' }, now());
    return response;
  }
  return rewrapResponse(response, observeBody(response.body, streamSpan, { options }));
}

/** What {@link traceTape} made. */
export interface TraceTapeResult {
  traceId: string;
  spanId: string;
  endReason: EndReason | undefined;
  jaegerUrl: string;
}

/**
 * Re-emits a recorded tape as the spans a live stream would have produced, at the tape's
 * original times: the span starts at `startedAt`, each span event sits at
 * `startedAt + event.offsetMs`, and the span ends at `startedAt + durationMs`. The span
 * carries `tapedeck.tape.span_id` and links to the recording's own span.
 *
 * @example
 * ```ts
 * const tape = await store.get(spanId);
 * if (tape) console.log(traceTape(tape).jaegerUrl);
 * ```
 */
export function traceTape(tape: Tape, options: InstrumentOptions = {}): TraceTapeResult {
  const startTime = tape.startedAt;
  const lastEventMs = tape.events.at(-1)?.offsetMs ?? 0;
  const lastChunkMs = tape.chunks.at(-1)?.offsetMs ?? 0;
  const endTime = startTime + (tape.durationMs ?? Math.max(lastEventMs, lastChunkMs));
  const headers = Object.fromEntries(
    Object.entries(tape.request.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const streamSpan = createStreamSpan({
    tracer: tracerFor(options),
    instruments: instrumentsFor(options),
    options: { ...options, family: options.family ?? tape.family },
    request: {
      url: tape.request.url,
      method: tape.request.method,
      body: tape.request.body,
      accept: headers.accept,
    },
    startTime,
    attributes: {
      [ATTR_TAPEDECK_TAPE_SPAN_ID]: tape.spanId,
      [ATTR_TAPEDECK_TAPE_TRACE_ID]: tape.traceId,
    },
    links: [
      {
        context: {
          traceId: tape.traceId,
          spanId: tape.spanId,
          traceFlags: TraceFlags.SAMPLED,
          isRemote: true,
        },
      },
    ],
  });
  const responseTime = startTime + (tape.chunks[0]?.offsetMs ?? tape.firstEventMs ?? 0);
  if (
    streamSpan.response(
      { status: tape.response.status, statusText: tape.response.statusText },
      tape.outcome === 'http-error' ? endTime : responseTime,
    )
  ) {
    for (const chunk of tape.chunks) streamSpan.chunk(chunk.byteLength, startTime + chunk.offsetMs);
    for (const event of tape.events) streamSpan.event(event, startTime + event.offsetMs);
    const stop: StreamStop =
      tape.outcome === 'complete'
        ? { kind: 'done' }
        : tape.outcome === 'aborted'
          ? { kind: 'cancel' }
          : {
              kind: 'error',
              error: new Error(tape.error ?? `the recording ended as ${tape.outcome}`),
            };
    streamSpan.end(stop, endTime);
  }
  const { traceId, spanId } = streamSpan.span.spanContext();
  return {
    traceId,
    spanId,
    endReason: streamSpan.endReason,
    jaegerUrl: jaegerTraceUrl({ traceId, spanId, baseUrl: options.jaegerBaseUrl }),
  };
}

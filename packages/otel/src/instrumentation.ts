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
import { createParser } from '@tapedeck/sse';
import type { Tape } from '@tapedeck/types';
import { ATTR_TAPEDECK_TAPE_SPAN_ID, ATTR_TAPEDECK_TAPE_TRACE_ID } from './semconv.js';
import {
  createInstruments,
  createStreamSpan,
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
import { describeRequest, jaegerTraceUrl } from './utils.js';

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

function defaultNow(): number {
  return performance.timeOrigin + performance.now();
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
  const { now, setTimer } = clockOf(options._internal);
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const reader = body.getReader();
  let chunkTime = 0;
  const parser = createParser({
    onEvent(event) {
      // No closure per event: this runs for every SSE event of every stream.
      try {
        streamSpan.event(event, chunkTime);
      } catch (error) {
        reportTelemetryError('recording an event', error);
      }
    },
    onError(error) {
      diag.debug('[tapedeck] SSE parse problem in an instrumented stream', error);
    },
  });
  // One timer per stream, re-armed only when it fires: re-arming on every chunk would cost more
  // than the rest of the per-chunk telemetry. Idle means nobody is reading: a slow upstream with
  // a consumer waiting on a read is not idle.
  let cancelIdle: (() => void) | undefined;
  let reading = false;
  let cancelled = false;
  let lastActivity = now();
  const stop = (reason: StreamStop) => {
    cancelIdle?.();
    cancelIdle = undefined;
    signal?.removeEventListener('abort', onAbort);
    safely('ending the span', () => streamSpan.end(reason, now()));
  };
  const onAbort = () => stop({ kind: 'abort', error: signal?.reason });
  const armIdle = (delayMs: number) => {
    cancelIdle = setTimer(onIdle, delayMs);
  };
  const onIdle = () => {
    cancelIdle = undefined;
    if (streamSpan.ended) return;
    if (reading) return armIdle(idleTimeoutMs);
    const quietMs = now() - lastActivity;
    if (quietMs < idleTimeoutMs) return armIdle(idleTimeoutMs - quietMs);
    stop({ kind: 'idle' });
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  if (idleTimeoutMs > 0 && !streamSpan.ended) armIdle(idleTimeoutMs);

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        reading = true;
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          reading = false;
          stop(signal?.aborted ? { kind: 'abort', error } : { kind: 'error', error });
          // The consumer sees the upstream's own error.
          throw error;
        }
        reading = false;
        if (result.done) {
          safely('flushing the parser', () => parser.end());
          stop({ kind: 'done' });
          // After a cancel the pending read resolves as done and the stream is already closed.
          if (!cancelled) controller.close();
          return;
        }
        const arrivedAt = now();
        const chunk = result.value;
        if (cancelled) return;
        controller.enqueue(chunk);
        if (!streamSpan.ended) {
          chunkTime = arrivedAt;
          lastActivity = arrivedAt;
          try {
            streamSpan.chunk(chunk.byteLength, arrivedAt);
            parser.feed(chunk);
          } catch (error) {
            reportTelemetryError('recording a chunk', error);
          }
        }
      },
      cancel(reason) {
        cancelled = true;
        stop({ kind: 'cancel' });
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
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
    try {
      call = await describeFetchCall(input, init);
      const looks = describeRequest({ url: call.url, body: call.body, accept: call.accept });
      if (looks.looksStreaming) {
        streamSpan = createStreamSpan({
          tracer: tracerFor(options),
          instruments: instrumentsFor(options),
          options,
          request: call,
          startTime,
        });
      }
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
        streamSpan = createStreamSpan({
          tracer: tracerFor(options),
          instruments: instrumentsFor(options),
          options,
          request: call,
          startTime,
        });
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

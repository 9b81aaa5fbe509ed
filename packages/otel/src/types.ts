import type { Context, MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { StreamFamily } from '@tapedeck/types';

/**
 * Which SSE events become span events.
 * - `coalesce` (default): lifecycle, terminal and error events one by one; runs of deltas
 *   merged into `tapedeck.delta_batch` events; the total stays under `maxSpanEvents`.
 * - `all`: every SSE event is a span event. A long stream then goes past the SDK's limit
 *   (128 by default) and the SDK drops the oldest events, `response.created` first; raise
 *   `spanLimits.eventCountLimit` to keep them, at about 0.5 KB of memory and export size per
 *   event.
 * - `lifecycle`: no deltas at all, only lifecycle, terminal and error events.
 */
export type SpanEventsMode = 'all' | 'coalesce' | 'lifecycle';

/**
 * Why a stream's span ended.
 * - `completed`: the terminal event arrived (or, for Opper, the stream closed cleanly).
 * - `incomplete`: `response.incomplete`; see `gen_ai.response.finish_reasons`.
 * - `upstream_error`: an HTTP error status, an `error` event, `response.failed` or an Opper
 *   error chunk.
 * - `network_error`: the request was rejected, or the stream dropped before its terminal event.
 * - `consumer_abort`: the consumer cancelled, broke out of its loop or aborted the signal.
 * - `idle_timeout`: nobody read the stream for `idleTimeoutMs`.
 */
export type EndReason =
  | 'completed'
  | 'incomplete'
  | 'upstream_error'
  | 'network_error'
  | 'consumer_abort'
  | 'idle_timeout';

/** What {@link InstrumentOptions.onStreamEnd} receives once a stream's span has ended. */
export interface StreamEndInfo {
  traceId: string;
  spanId: string;
  endReason: EndReason;
  /** The Jaeger UI link for the trace, with this span highlighted. */
  jaegerUrl: string;
}

/** Time sources, injectable so tests need no real sleeps. */
export interface InstrumentInternals {
  /** Epoch milliseconds, fractional allowed. Defaults to `performance.timeOrigin + performance.now()`. */
  now?: () => number;
  /** Starts a one-shot timer; returns a function that cancels it. Defaults to an unref'd `setTimeout`. */
  setTimer?: (callback: () => void, delayMs: number) => () => void;
}

/** Options shared by {@link instrumentFetch}, {@link instrumentStream} and {@link traceTape}. */
export interface InstrumentOptions {
  /** Where spans go. Defaults to the global tracer provider. */
  tracerProvider?: TracerProvider;
  /** Where metrics go. Defaults to the global meter provider. */
  meterProvider?: MeterProvider;
  /** Which SSE events become span events (default `coalesce`). */
  events?: SpanEventsMode;
  /** The span-event limit to stay under (default 128, the SDK's default `eventCountLimit`). */
  maxSpanEvents?: number;
  /** In `coalesce` mode, flush a delta batch after this many deltas at the latest (default 64). */
  deltaBatchSize?: number;
  /** A child span per output item, `output_item {type}` (default true). */
  outputItemSpans?: boolean;
  /**
   * Put the assembled output on the span (`gen_ai.output.messages`) and the text on delta
   * batches. Defaults to `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`, else off.
   */
  captureContent?: boolean;
  /** Cap on captured text per attribute, in characters (default 8192). */
  maxContentLength?: number;
  /**
   * End the span with `idle_timeout` when the stream has not been read for this long
   * (default 300000; 0 turns it off). The consumer's stream is left alone.
   */
  idleTimeoutMs?: number;
  /** Overrides `gen_ai.provider.name` (otherwise from the host, then the family). */
  providerName?: string;
  /** Overrides `gen_ai.operation.name` (default `chat`). */
  operationName?: string;
  /** The stream family, when the URL and first events cannot tell. */
  family?: StreamFamily;
  /** Jaeger UI base for {@link StreamEndInfo.jaegerUrl} (default `http://localhost:16686`). */
  jaegerBaseUrl?: string;
  /** Called once per stream, after its span ended; telemetry errors in it go to diag. */
  onStreamEnd?: (info: StreamEndInfo) => void;
  /** Injected time sources (tests). */
  _internal?: InstrumentInternals;
}

/** What {@link instrumentStream} knows about the request, for attributes. */
export interface StreamRequestInfo {
  url?: string;
  method?: string;
  /** The request body as text (usually JSON). */
  body?: string | null;
}

/** Options for {@link instrumentStream}. */
export interface InstrumentStreamOptions extends InstrumentOptions {
  /** The request that opened the stream, for the span's attributes. */
  request?: StreamRequestInfo;
  /** When the request was sent, epoch ms (default: now). */
  startTime?: number;
  /** The parent context (default: the active context). */
  parentContext?: Context;
}

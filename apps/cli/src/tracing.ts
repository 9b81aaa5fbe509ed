import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { setupTracing } from '@tapedeck/otel/setup';
import { probeOtlp } from './otlp.js';

/** Tracing for one CLI process: exported over OTLP, or kept in this process. */
export interface CliTracing {
  /** `otlp` when spans go to a collector, `local` when they only exist here. */
  mode: 'otlp' | 'local';
  /** Where spans are posted, in `otlp` mode. */
  tracesUrl?: string;
  /** Spans ended so far, in `local` mode with `collect`. */
  finishedSpans(): tracing.ReadableSpan[];
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Registers a global tracer provider so streams get spans (and the recorder keys tapes by
 * them): exporting to `endpoint` when a collector answers there, otherwise local only.
 */
export async function startCliTracing({
  endpoint,
  collect = false,
  probeTimeoutMs = 300,
}: {
  endpoint: string;
  collect?: boolean;
  probeTimeoutMs?: number;
}): Promise<CliTracing> {
  if (await probeOtlp({ endpoint, timeoutMs: probeTimeoutMs })) {
    const handle = setupTracing({ endpoint, serviceName: 'tapedeck' });
    return {
      mode: 'otlp',
      tracesUrl: handle.tracesUrl,
      finishedSpans: () => [],
      forceFlush: () => handle.forceFlush(),
      shutdown: () => handle.shutdown(),
    };
  }
  const exporter = new tracing.InMemorySpanExporter();
  const processor: tracing.SpanProcessor = collect
    ? new tracing.SimpleSpanProcessor(exporter)
    : {
        onStart: () => {},
        onEnd: () => {},
        forceFlush: async () => {},
        shutdown: async () => {},
      };
  const sdk = new NodeSDK({
    serviceName: 'tapedeck',
    spanProcessors: [processor],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return {
    mode: 'local',
    finishedSpans: () => exporter.getFinishedSpans(),
    forceFlush: () => processor.forceFlush(),
    shutdown: () => sdk.shutdown(),
  };
}

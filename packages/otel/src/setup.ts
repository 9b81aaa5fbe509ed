import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';

/** Options for {@link setupTracing}. */
export interface SetupTracingOptions {
  /**
   * The OTLP/HTTP base URL; traces go to `{endpoint}/v1/traces`. Defaults to
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is), then `OTEL_EXPORTER_OTLP_ENDPOINT`,
   * then `http://localhost:4318` (Jaeger all-in-one from the repo's docker-compose.yml).
   */
  endpoint?: string;
  /** `service.name` on every span (default `OTEL_SERVICE_NAME`, then `tapedeck`). */
  serviceName?: string;
}

/** What {@link setupTracing} started. */
export interface TracingHandle {
  /** The URL spans are posted to. */
  readonly tracesUrl: string;
  /** Exports every span ended so far. */
  forceFlush(): Promise<void>;
  /** Exports what is left and stops the SDK; call it before the process exits. */
  shutdown(): Promise<void>;
}

function tracesUrlFor(endpoint: string | undefined): string {
  const environment = globalThis.process?.env ?? {};
  if (endpoint === undefined && environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    return environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  }
  const base = endpoint ?? environment.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318';
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Starts the OpenTelemetry Node SDK with the OTLP/HTTP (JSON) trace exporter and a batch
 * span processor, registered globally, so `instrumentFetch` / `instrumentStream` /
 * `traceTape` spans reach Jaeger. Only traces: no metrics or logs exporters are started
 * (Jaeger does not accept them).
 *
 * @example
 * ```ts
 * import { setupTracing } from '@tapedeck/otel/setup';
 * const tracing = setupTracing({ serviceName: 'my-app' });
 * // … run streams …
 * await tracing.shutdown();
 * ```
 */
export function setupTracing({ endpoint, serviceName }: SetupTracingOptions = {}): TracingHandle {
  const tracesUrl = tracesUrlFor(endpoint);
  const processor = new tracing.BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }));
  const sdk = new NodeSDK({
    serviceName: serviceName ?? globalThis.process?.env?.OTEL_SERVICE_NAME ?? 'tapedeck',
    spanProcessors: [processor],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return {
    tracesUrl,
    forceFlush: () => processor.forceFlush(),
    shutdown: () => sdk.shutdown(),
  };
}

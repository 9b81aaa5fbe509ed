import type { StreamFamily } from '@tapedeck/types';

/** The Jaeger UI's page for a trace, with the span highlighted. */
export function jaegerTraceUrl({
  traceId,
  spanId,
  baseUrl = 'http://localhost:16686',
}: {
  traceId: string;
  spanId?: string;
  baseUrl?: string;
}): string {
  const url = new URL(`/trace/${traceId}`, baseUrl);
  if (spanId) url.searchParams.set('uiFind', spanId);
  return url.toString();
}

/** True when `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` is `true` (any case). */
export function captureContentFromEnvironment(): boolean {
  const value = globalThis.process?.env?.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
  return typeof value === 'string' && value.trim().toLowerCase() === 'true';
}

/** What a request says about the call, for the span's attributes and name. */
export interface RequestAttributes {
  serverAddress?: string;
  serverPort?: number;
  path?: string;
  model?: string;
  /** `stream: true` in the body, `Accept: text/event-stream`, or a `/stream` path. */
  looksStreaming: boolean;
  /** Opper's function name, when the body has one. */
  functionName?: string;
}

/** Reads the URL and JSON body of a request. Never throws: unknown shapes give fewer fields. */
export function describeRequest({
  url,
  body,
  accept,
}: {
  url?: string;
  body?: string | null;
  accept?: string | null;
}): RequestAttributes {
  const result: RequestAttributes = { looksStreaming: false };
  if (url) {
    try {
      const parsed = new URL(url);
      result.serverAddress = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
      result.serverPort = parsed.port
        ? Number(parsed.port)
        : parsed.protocol === 'https:'
          ? 443
          : parsed.protocol === 'http:'
            ? 80
            : undefined;
      result.path = parsed.pathname;
      if (/\/stream(\/|$)/.test(parsed.pathname)) result.looksStreaming = true;
    } catch {
      // A relative or malformed URL: no server attributes.
    }
  }
  if (accept?.includes('text/event-stream')) result.looksStreaming = true;
  if (body && body.length > 0 && body.charCodeAt(0) === 123 /* { */) {
    try {
      const parsed = JSON.parse(body) as Record<string, unknown>;
      if (typeof parsed.model === 'string') result.model = parsed.model;
      if (parsed.stream === true) result.looksStreaming = true;
      if (typeof parsed.name === 'string') result.functionName = parsed.name;
    } catch {
      // Not JSON: no model.
    }
  }
  return result;
}

/** `gen_ai.provider.name` from the host, then from the stream family. */
export function providerNameFor({
  serverAddress,
  family,
}: {
  serverAddress?: string;
  family?: StreamFamily;
}): string | undefined {
  const host = serverAddress?.toLowerCase() ?? '';
  if (host.includes('openrouter')) return 'openrouter';
  if (host.includes('opper')) return 'opper';
  if (host.endsWith('openai.azure.com')) return 'azure.ai.openai';
  if (host.includes('openai')) return 'openai';
  if (host.includes('anthropic')) return 'anthropic';
  if (family === 'opper') return 'opper';
  // The OpenAI wire formats served by a host we do not know (a gateway, a local proxy).
  if (family === 'openresponses' || family === 'chat-completions') return 'openai';
  return undefined;
}

/** Cuts `text` to `maxLength` characters, marking the cut. */
export function truncate(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  return `${text.slice(0, Math.max(0, maxLength - 1))}…`;
}

/**
 * The latest object of each shape the per-event path handles, kept reachable on purpose. V8
 * forgets an object shape once no object has it, and with it every optimized function that was
 * specialized on that shape: after a full GC with no stream in flight, the next stream would
 * recompile its whole per-event path, which costs more CPU than that path itself (in the otel
 * benchmark, about 3 µs per event). One object per shape, the latest, is a few KB at most.
 */
export const latestOfShape: {
  streamSpan: unknown;
  body: unknown;
  event: unknown;
  facts: unknown;
  batch: unknown;
  batchAttributes: unknown;
} = {
  streamSpan: undefined,
  body: undefined,
  event: undefined,
  facts: undefined,
  batch: undefined,
  batchAttributes: undefined,
};

// Gap percentiles. The first EXACT_GAPS gaps are kept exactly (small streams get exact
// percentiles); every gap also goes into a log histogram with 8 buckets per doubling
// (≤ 4.4 % relative error) from 1 µs to ~ 18 hours, so memory stays fixed on huge streams.
const EXACT_GAPS = 1024;
const BUCKETS_PER_DOUBLING = 8;
const SMALLEST_GAP_MS = 0.001;
const BUCKET_COUNT = 8 * 36;

/** Running statistics over inter-event gaps, in fixed memory. */
export interface GapStatistics {
  add(gapMs: number): void;
  readonly count: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** The q-quantile (0..1), exact while at most 1024 gaps were added, else from the histogram. */
  quantile(q: number): number;
}

/** Creates {@link GapStatistics}. */
export function createGapStatistics(): GapStatistics {
  return new FixedMemoryGapStatistics();
}

// A class, not an object literal with getters: a literal's accessors give every stream its own
// object shape, so the per-event `add` call could not stay optimized across streams.
class FixedMemoryGapStatistics implements GapStatistics {
  readonly #exact = new Float64Array(EXACT_GAPS);
  // Bucket 0 counts gaps below SMALLEST_GAP_MS (events in the same chunk have a 0 gap).
  readonly #histogram = new Uint32Array(BUCKET_COUNT + 1);
  #count = 0;
  #sum = 0;
  #max = 0;

  add(gapMs: number): void {
    const count = this.#count;
    if (count < EXACT_GAPS) this.#exact[count] = gapMs;
    this.#count = count + 1;
    this.#sum += gapMs;
    if (gapMs > this.#max) this.#max = gapMs;
    let bucket = 0;
    if (gapMs >= SMALLEST_GAP_MS) {
      bucket =
        1 + Math.floor(Math.log2(gapMs / SMALLEST_GAP_MS) * BUCKETS_PER_DOUBLING + Number.EPSILON);
      if (bucket > BUCKET_COUNT) bucket = BUCKET_COUNT;
    }
    this.#histogram[bucket] = (this.#histogram[bucket] ?? 0) + 1;
  }

  get count(): number {
    return this.#count;
  }

  get maxMs(): number {
    return this.#max;
  }

  get meanMs(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  quantile(q: number): number {
    const count = this.#count;
    const max = this.#max;
    if (count === 0) return 0;
    // Nearest-rank: the smallest gap with at least q of all gaps at or below it.
    const rank = Math.max(1, Math.ceil(q * count));
    if (count <= EXACT_GAPS) {
      const sorted = this.#exact.slice(0, count).sort();
      return sorted[rank - 1] ?? 0;
    }
    let seen = 0;
    for (let bucket = 0; bucket <= BUCKET_COUNT; bucket += 1) {
      seen += this.#histogram[bucket] ?? 0;
      if (seen >= rank) {
        if (bucket === 0) return 0;
        // The bucket's geometric middle, never above the true maximum.
        const low = SMALLEST_GAP_MS * 2 ** ((bucket - 1) / BUCKETS_PER_DOUBLING);
        return Math.min(max, low * 2 ** (0.5 / BUCKETS_PER_DOUBLING));
      }
    }
    return max;
  }
}

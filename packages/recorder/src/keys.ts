import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';

/** The span attribute that names the tape recorded under a span. */
export const TAPE_SPAN_ATTRIBUTE = 'tapedeck.tape.span_id';

let otel: typeof OtelApi | null | undefined;

// `@opentelemetry/api` is an optional peer: load it synchronously when present (it keeps its
// state on a global, so this copy sees the tracer the application registered) and carry on
// without it when it is not installed.
function loadOtel(): typeof OtelApi | null {
  if (otel === undefined) {
    try {
      otel = createRequire(import.meta.url)('@opentelemetry/api') as typeof OtelApi;
    } catch {
      otel = null;
    }
  }
  return otel;
}

// Random bytes are drawn 4 KiB at a time: one call into the CSPRNG per request cost more than
// the rest of starting a tape.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomHex(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (!/^0+$/.test(hex)) return hex;
  }
}

/** The ids a new tape is keyed by, and the active span they came from (if any). */
export interface TapeKeys {
  spanId: string;
  traceId: string;
  span?: OtelApi.Span;
}

/**
 * The active OpenTelemetry span's ids when there is one (so a span seen in a trace viewer finds
 * its tape), otherwise fresh W3C-valid random ids. `used` holds span ids already given to a tape
 * by this recorder: a second stream under the same span gets a new span id in the same trace.
 */
export function tapeKeys(used: { has(spanId: string): boolean }): TapeKeys {
  const api = loadOtel();
  const span = api?.trace.getActiveSpan();
  const context = span?.spanContext();
  if (span && context && api?.isSpanContextValid(context)) {
    const spanId = used.has(context.spanId) ? randomHex(8) : context.spanId;
    return { spanId, traceId: context.traceId, span };
  }
  return { spanId: randomHex(8), traceId: randomHex(16) };
}

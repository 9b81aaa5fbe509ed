import { traceTape } from '@tapedeck/otel';
import { setupTracing } from '@tapedeck/otel/setup';
import type { Tape } from '@tapedeck/types';
import { failure } from '../errors.js';
import type { CliIo } from '../io.js';
import { JAEGER_COMMAND, probeOtlp } from '../otlp.js';
import { findTape, withStore } from '../store.js';

/** Options of `tapedeck trace`. */
export interface TraceOptions {
  db: string;
  ids: string[];
  endpoint: string;
  jaegerUrl: string;
  json: boolean;
}

/** Re-emits tapes as spans over OTLP/HTTP at their recorded times and prints Jaeger links. */
export async function runTrace(io: CliIo, options: TraceOptions): Promise<void> {
  // Resolve every id before exporting anything, so a typo fails cleanly.
  const tapes: Tape[] = await withStore({ path: options.db, create: false }, async (store) => {
    const found: Tape[] = [];
    for (const id of options.ids) found.push(await findTape(store, id, options.db));
    return found;
  });
  if (!(await probeOtlp({ endpoint: options.endpoint, timeoutMs: 1000 }))) {
    throw failure(
      'TELEMETRY_FAILURE',
      `no OTLP/HTTP collector answers at ${options.endpoint}: start Jaeger with \`${JAEGER_COMMAND}\` or pass --endpoint <url>`,
      { path: options.endpoint },
    );
  }
  const tracing = setupTracing({ endpoint: options.endpoint, serviceName: 'tapedeck' });
  const results = tapes.map((tape) => ({
    tape: tape.spanId,
    ...traceTape(tape, { jaegerBaseUrl: options.jaegerUrl }),
  }));
  try {
    await tracing.forceFlush();
  } finally {
    await tracing.shutdown();
  }
  io.stderr.write(
    `[tapedeck] exported ${results.length} span${results.length === 1 ? '' : 's'} to ${tracing.tracesUrl}\n`,
  );
  if (options.json) {
    io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  for (const result of results) {
    io.stdout.write(`${result.tape}  ${io.colors.cyan(result.jaegerUrl)}\n`);
  }
}

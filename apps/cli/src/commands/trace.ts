import { failure } from '../errors.js';
import type { CliIo } from '../io.js';

/** Options of `tapedeck trace`. */
export interface TraceOptions {
  db: string;
  ids: string[];
  endpoint: string;
  jaegerUrl: string;
  json: boolean;
}

/** Re-emits tapes as spans; it lands with @tapedeck/otel's `traceTape`. */
export async function runTrace(_io: CliIo, _options: TraceOptions): Promise<void> {
  throw failure('INVALID_ARGUMENT', 'tapedeck trace is not available in this build yet');
}

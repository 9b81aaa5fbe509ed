import { failure } from '../errors.js';
import type { CliIo } from '../io.js';

/** Options of `tapedeck proxy`. */
export interface ProxyOptions {
  db: string;
  upstream: string;
  port: number;
  endpoint?: string;
}

/** The recording proxy; it lands with @tapedeck/recorder's `createRecorder`. */
export async function runProxy(_io: CliIo, _options: ProxyOptions): Promise<void> {
  throw failure('INVALID_ARGUMENT', 'tapedeck proxy is not available in this build yet');
}

import { TapedeckError } from '@tapedeck/types';

/** Exit codes: 0 ok, 1 failure, 2 usage. */
export const EXIT_OK = 0;
/** The command ran and failed: bad data, unknown id, unreachable upstream. */
export const EXIT_FAILURE = 1;
/** The command line itself was wrong. */
export const EXIT_USAGE = 2;

/** A command-line mistake the user fixes by changing the arguments (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Shorthand for a `TapedeckError` with a code and where it happened. */
export function failure(
  code: ConstructorParameters<typeof TapedeckError>[0]['code'],
  message: string,
  context: Record<string, unknown> = {},
  cause?: unknown,
): TapedeckError {
  return new TapedeckError({ code, message, context, cause });
}

/** Any thrown value as one `[tapedeck] …` line. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.replace(/\s*\r?\n\s*/g, ' ').trim();
  return line.startsWith('[tapedeck]') ? line : `[tapedeck] ${line}`;
}

/**
 * Every failure tapedeck reports has one of these codes, so callers can branch on
 * `error.code` instead of parsing messages.
 */
export type TapedeckErrorCode =
  | 'TAPE_NOT_FOUND'
  | 'NO_MATCHING_TAPE'
  | 'INVALID_TAPE'
  | 'STORE_FAILURE'
  | 'SCHEMA_VERSION_MISMATCH'
  | 'SSE_LIMIT_EXCEEDED'
  | 'INVALID_EVENT'
  | 'RECORDER_FAILURE'
  | 'TELEMETRY_FAILURE'
  | 'INVALID_ARGUMENT';

/** Where in a tape or stream a problem was found. Every field is optional. */
export interface TapedeckErrorContext {
  /** The tape's spanId (or the id the caller asked for). */
  tapeId?: string;
  /** Index of the SSE event within the stream. */
  eventIndex?: number;
  /** Byte offset within the stream's raw bytes. */
  byteOffset?: number;
  /** A file path, database path or URL involved. */
  path?: string;
  /** Anything else worth showing to the user. */
  [key: string]: unknown;
}

const marker: unique symbol = Symbol.for('tapedeck.error');

/**
 * The one error type tapedeck throws or hands to `onError`.
 *
 * @example
 * ```ts
 * try { await store.get(id) } catch (error) {
 *   if (TapedeckError.isInstance(error) && error.code === 'TAPE_NOT_FOUND') { … }
 * }
 * ```
 */
export class TapedeckError extends Error {
  // A symbol marker instead of `instanceof`, so two installed copies of this package agree.
  readonly [marker] = true;
  /** What went wrong, as a stable string. */
  readonly code: TapedeckErrorCode;
  /** Where it went wrong. */
  readonly context: TapedeckErrorContext;

  constructor({
    code,
    message,
    cause,
    context = {},
  }: {
    code: TapedeckErrorCode;
    message: string;
    cause?: unknown;
    context?: TapedeckErrorContext;
  }) {
    super(message.startsWith('[tapedeck]') ? message : `[tapedeck] ${message}`, { cause });
    this.name = 'TapedeckError';
    this.code = code;
    this.context = context;
  }

  /** True for any TapedeckError, including one from another copy of this package. */
  static isInstance(error: unknown): error is TapedeckError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }

  /** True for a TapedeckError with this `code`. */
  static hasCode(error: unknown, code: TapedeckErrorCode): error is TapedeckError {
    return TapedeckError.isInstance(error) && error.code === code;
  }
}

// Types for sqlite-core.mjs (plain JavaScript so the writer worker can load it on Node 20).

import type {
  Tape,
  TapeAppend,
  TapeFinish,
  TapeHead,
  TapeListQuery,
  TapeStoreStats,
  TapeSummary,
} from '@tapedeck/types';
import type Database from 'better-sqlite3';
import type { PackedEvents } from './internal.js';
import type { CompactEvents, FramedEvent } from './sse-framer.mjs';

/** The database layout version this code writes (`PRAGMA user_version`). */
export declare const SQLITE_SCHEMA_VERSION: number;

/** One store operation by name, as sent to the writer worker. */
export interface CoreOperation {
  op:
    | 'put'
    | 'append'
    | 'appendTick'
    | 'finish'
    | 'learn'
    | 'get'
    | 'list'
    | 'delete'
    | 'prune'
    | 'stats';
  args: unknown[];
}

/** A structured-clone-safe error. */
export interface SerializedError {
  message: string;
  code?: string;
  sqliteCode?: string;
  context?: Record<string, unknown>;
}

/** The result of one operation in a batch. */
export type BatchResult = { ok: true; value: unknown } | { ok: false; error: SerializedError };

/** The synchronous store over one open database. */
export interface TapeCore {
  put(tape: TapeHead | Tape): void;
  /** With `frame: true` (the writer frames the bytes) returns what it found (see `TickResult`). */
  append(spanId: string, data: TapeAppend): unknown;
  /** Returns the leading events only the stream's end dispatched, if any. */
  finish(
    spanId: string,
    finish: TapeFinish & { family?: string },
  ): { leading?: Array<{ type: string; data: string }> } | undefined;
  learn(
    spanId: string,
    keys: { family: string; upstreamSpanId?: string; responseId?: string; model?: string },
  ): void;
  get(id: string): Tape | undefined;
  list(query?: TapeListQuery): { tapes: TapeSummary[]; nextCursor?: string };
  delete(id: string): boolean;
  prune(options: { olderThan: number }): number;
  stats(): TapeStoreStats;
  read(operation: CoreOperation): unknown;
  runBatch(operations: CoreOperation[]): BatchResult[];
  close(): void;
}

/** Opens (creating with mode 0600 and migrating as needed) a tape database. */
export declare function openTapeDatabase(options: {
  path: string;
  markIncomplete?: boolean;
}): Database.Database;
/** The synchronous store over one open database. */
export declare function createTapeCore(db: Database.Database): TapeCore;
/** An Error with a tapedeck `code` and `context`. */
export declare function coreError(
  code: string,
  message: string,
  context?: Record<string, unknown>,
  cause?: unknown,
): Error & { code: string; context: Record<string, unknown> };
/** A structured-clone-safe description of an error. */
export declare function serializeError(error: unknown): SerializedError;
/** The `data` of one dispatched SSE event from its exact bytes. */
export declare function eventDataFromBytes(block: Uint8Array, atStreamStart: boolean): string;
/** Packs events for the trip to the writer thread; events without `data` get it from the bytes. */
export declare function packEvents(
  events: ReadonlyArray<FramedEvent & { data?: string }>,
): PackedEvents;

/** The events of a batch in encoding 2, without their data (read from the raw bytes). */
export declare function unpackCompactEvents(
  compact: CompactEvents,
): Array<FramedEvent & { data: string | undefined }>;

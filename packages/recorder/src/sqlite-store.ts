import { Worker } from 'node:worker_threads';
import type {
  Tape,
  TapeAppend,
  TapedeckErrorCode,
  TapeFinish,
  TapeHead,
  TapeListQuery,
  TapeStore,
  TapeStoreStats,
  TapeSummary,
} from '@tapedeck/types';
import { TapedeckError } from '@tapedeck/types';
import {
  APPEND_TICK,
  type AppendTick,
  FINISH_TICKED,
  type FinishTicked,
  LEARN_KEYS,
  type TickResult,
  type TickStore,
} from './internal.js';
import {
  type BatchResult,
  type CoreOperation,
  createTapeCore,
  openTapeDatabase,
  packEvents,
  type SerializedError,
  serializeError,
} from './sqlite-core.mjs';

/** Options for {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file; created with mode 0600 when missing. */
  path: string;
}

const KNOWN_CODES = new Set<TapedeckErrorCode>([
  'TAPE_NOT_FOUND',
  'INVALID_TAPE',
  'STORE_FAILURE',
  'SCHEMA_VERSION_MISMATCH',
  'INVALID_ARGUMENT',
]);

function toTapedeckError(error: SerializedError | unknown, path: string, operation?: string) {
  const serialized =
    typeof error === 'object' && error !== null && 'message' in error
      ? (error as SerializedError)
      : { message: String(error) };
  const code =
    serialized.code && KNOWN_CODES.has(serialized.code as TapedeckErrorCode)
      ? (serialized.code as TapedeckErrorCode)
      : 'STORE_FAILURE';
  const where = operation ? `${operation} in ${path}` : path;
  return new TapedeckError({
    code,
    message: `tape store ${where}: ${serialized.message}`,
    cause: error,
    context: {
      path,
      ...serialized.context,
      ...(serialized.sqliteCode ? { sqliteCode: serialized.sqliteCode } : {}),
    },
  });
}

const TRANSFER_MIN_BYTES = 64 * 1024;

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * A {@link TapeStore} in one SQLite file (WAL, versioned schema, file mode 0600). The file is
 * opened, migrated and checked on the calling thread, so a database newer than this code throws
 * `SCHEMA_VERSION_MISMATCH` at once; tapes a dead process left `recording` become `incomplete`.
 * Every write after that runs on a worker thread: writes issued in the same tick share one
 * transaction, and the caller's event loop never waits on the disk for them. Reads (`get`,
 * `list`, `stats`) run on the calling thread once the caller's earlier writes have landed, so a
 * caller sees what it wrote. Several processes may write one file at the same time.
 *
 * @example
 * ```ts
 * const store = createSqliteStore({ path: 'tapes.sqlite' });
 * const { tapes } = await store.list({ family: 'opper', limit: 10 });
 * await store.close();
 * ```
 */
export function createSqliteStore({ path }: SqliteStoreOptions): TapeStore {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TapedeckError({
      code: 'INVALID_ARGUMENT',
      message:
        'createSqliteStore: `path` must be a file path (or ":memory:" is not supported here)',
    });
  }
  // This connection stays open as the store's reader: reads run here, on the calling thread.
  // A read is a few indexed lookups and one BLOB (microseconds), while a round trip to the
  // writer thread costs a message each way plus the wait behind any write batch in progress.
  // WAL lets it read while the writer thread writes.
  let reader: ReturnType<typeof createTapeCore>;
  try {
    reader = createTapeCore(openTapeDatabase({ path }));
  } catch (error) {
    throw toTapedeckError(error, path);
  }

  const worker = new Worker(new URL('./sqlite-worker.mjs', import.meta.url), {
    workerData: { path },
    // The worker loads only plain JavaScript; the parent's loader flags (tsx, --input-type) do
    // not apply to it.
    execArgv: [],
    // What it allocates lives for one batch: a small young generation holds that, where V8's
    // default lets it grow to tens of MB of RSS in a process that records many streams.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let failure: TapedeckError | undefined;
  let closed: Promise<void> | undefined;
  let queuedWrites: Array<{ operation: CoreOperation; transfer?: ArrayBuffer[] } & Pending> = [];
  let flushScheduled = false;

  const updateRef = () => {
    if (pending.size > 0 || queuedWrites.length > 0) worker.ref();
    else worker.unref();
  };
  updateRef();

  const failAll = (error: TapedeckError) => {
    failure ??= error;
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
    for (const entry of queuedWrites) entry.reject(error);
    queuedWrites = [];
    updateRef();
  };

  worker.on(
    'message',
    (message: {
      type: string;
      id?: number;
      ok?: boolean;
      value?: unknown;
      error?: SerializedError;
    }) => {
      if (message.type === 'open-error') {
        failAll(toTapedeckError(message.error, path));
        return;
      }
      if (message.type !== 'result' || message.id === undefined) return;
      const entry = pending.get(message.id);
      if (!entry) return;
      pending.delete(message.id);
      if (message.ok) entry.resolve(message.value);
      else entry.reject(toTapedeckError(message.error, path));
      updateRef();
    },
  );
  worker.on('error', (error) => {
    failAll(
      new TapedeckError({
        code: 'STORE_FAILURE',
        message: `tape store ${path}: the writer thread failed: ${error.message}`,
        cause: error,
        context: { path },
      }),
    );
  });
  worker.on('exit', (exitCode) => {
    failAll(
      new TapedeckError({
        code: 'STORE_FAILURE',
        message: `tape store ${path} is closed${exitCode ? ` (writer thread exited with ${exitCode})` : ''}`,
        context: { path },
      }),
    );
  });

  const send = (
    message: Record<string, unknown>,
    transfer: ArrayBuffer[] = [],
  ): Promise<unknown> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      updateRef();
      worker.postMessage({ ...message, id }, transfer);
    });
  };

  // The newest write batch sent to the writer thread, settled once answered. The writer answers
  // in order, so when it has settled every earlier one has: a read waits for it, and a caller
  // always sees what it wrote (and only what it wrote before it read: later batches do not keep
  // the read waiting).
  let lastBatch: Promise<void> = Promise.resolve();

  const flushWrites = () => {
    flushScheduled = false;
    const batch = queuedWrites;
    queuedWrites = [];
    if (batch.length === 0) return;
    const transfer = batch.flatMap((entry) => entry.transfer ?? []);
    lastBatch = send(
      { kind: 'write', operations: batch.map((entry) => entry.operation) },
      transfer,
    ).then(
      (results) => {
        (results as BatchResult[]).forEach((result, index) => {
          const entry = batch[index]!;
          if (result.ok) entry.resolve(result.value);
          else entry.reject(toTapedeckError(result.error, path, entry.operation.op));
        });
      },
      (error) => {
        for (const entry of batch) entry.reject(error);
      },
    );
  };

  const write = <T = void>(operation: CoreOperation, transfer?: ArrayBuffer[]): Promise<T> => {
    if (closed) return Promise.reject(toTapedeckError({ message: 'the store is closed' }, path));
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      queuedWrites.push({ operation, transfer, resolve: (value) => resolve(value as T), reject });
      updateRef();
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushWrites);
      }
    });
  };

  const read = async <T>(operation: CoreOperation): Promise<T> => {
    if (closed) throw toTapedeckError({ message: 'the store is closed' }, path);
    if (queuedWrites.length > 0) flushWrites();
    await lastBatch;
    if (closed) throw toTapedeckError({ message: 'the store is closed' }, path);
    try {
      return reader.read(operation) as T;
    } catch (error) {
      throw toTapedeckError(serializeError(error), path, operation.op);
    }
  };

  // The chunks of one append travel as one buffer the writer thread takes over (transferred, not
  // copied). The chunks themselves are never transferred: the recorder's parser may still hold
  // the last one of an unfinished event.
  const joinSegment = (chunks: TapeAppend['chunks']) => {
    let byteLength = 0;
    for (const chunk of chunks) byteLength += chunk.bytes.byteLength;
    const bytes = new Uint8Array(byteLength);
    const timings = new Float64Array(chunks.length * 2);
    let offset = 0;
    chunks.forEach((chunk, index) => {
      bytes.set(chunk.bytes, offset);
      offset += chunk.bytes.byteLength;
      timings[index * 2] = chunk.offsetMs;
      timings[index * 2 + 1] = chunk.bytes.byteLength;
    });
    return { bytes, timings };
  };

  // The caller's events travel packed (a few typed arrays and one string clone faster than an
  // object per event).
  const append = (spanId: string, { chunks, events }: TapeAppend): Promise<void> => {
    const segment = joinSegment(chunks);
    // Transferring has a fixed cost per buffer that only pays off for big ones.
    return write(
      { op: 'append', args: [spanId, { segment, packedEvents: packEvents(events) }] },
      segment.bytes.byteLength >= TRANSFER_MIN_BYTES ? [segment.bytes.buffer] : [],
    );
  };

  // The writer thread frames the bytes itself: nothing per event happens on this thread. The
  // tick's buffers are transferred there, and the writer transfers the arenas back.
  const appendTick: AppendTick = (batch) =>
    write<{ results: BatchResult[]; arenas: ArrayBuffer[] }>({ op: 'appendTick', args: [batch] }, [
      ...batch.arenas,
      batch.chunks.buffer,
    ]).then(({ results, arenas }) => ({
      results: results.map((result) =>
        result.ok ? (result.value as TickResult) : toTapedeckError(result.error, path, 'append'),
      ),
      arenas,
    }));

  const finishTicked: FinishTicked = (spanId, finish) =>
    write({ op: 'finish', args: [spanId, finish] });
  const store: TapeStore & TickStore = {
    put: (tape: TapeHead | Tape) => write({ op: 'put', args: [tape] }),
    append,
    [APPEND_TICK]: appendTick,
    [FINISH_TICKED]: finishTicked,
    [LEARN_KEYS]: (spanId, keys) => write({ op: 'learn', args: [spanId, keys] }),
    finish: async (spanId: string, finish: TapeFinish) => {
      await finishTicked(spanId, finish);
    },
    get: (id: string) => read<Tape | undefined>({ op: 'get', args: [id] }),
    list: (query: TapeListQuery = {}) =>
      read<{ tapes: TapeSummary[]; nextCursor?: string }>({ op: 'list', args: [query] }),
    delete: (id: string) => write<boolean>({ op: 'delete', args: [id] }),
    prune: (options: { olderThan: number }) => write<number>({ op: 'prune', args: [options] }),
    stats: () => read<TapeStoreStats>({ op: 'stats', args: [] }),
    close() {
      closed ??= (async () => {
        flushWrites();
        if (!failure) {
          await send({ kind: 'close' }).catch(() => {});
        }
        await worker.terminate();
        reader.close();
      })();
      return closed;
    },
  };
  return store;
}

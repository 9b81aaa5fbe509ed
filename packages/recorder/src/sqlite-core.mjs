// @ts-check
// The synchronous SQLite tape store. Plain JavaScript on purpose: the recorder's writer worker
// (sqlite-worker.mjs) loads it directly, from src/ under vitest and from dist/ when built, and
// Node 20 cannot load TypeScript in a worker. The main thread imports the same module, so the
// schema and every statement live in one place.
import { closeSync, openSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { createFramer } from './sse-framer.mjs';

/** The writer's scratch buffer is kept from tick to tick up to this size. */
const SCRATCH_KEPT_BYTES = 32 * 1024 * 1024;
/**
 * A tape framed from its first byte hands its first events (type and data), at most this many
 * and only those within its first {@link LEADING_MAX_BYTES}, back with the append's answer: the
 * recorder learns the tape's family and keys from them, off its consumer's thread.
 */
const LEADING_EVENTS = 16;
const LEADING_MAX_BYTES = 1024 * 1024;

/** The database layout version this code writes (`PRAGMA user_version`). */
export const SQLITE_SCHEMA_VERSION = 2;

/**
 * Forward migrations: entry `i` moves a database from version `i` to `i + 1`.
 * @type {string[]}
 */
const MIGRATIONS = [
  `
  CREATE TABLE tapes (
    id INTEGER PRIMARY KEY,
    span_id TEXT NOT NULL UNIQUE,
    trace_id TEXT NOT NULL,
    upstream_span_id TEXT,
    response_id TEXT,
    family TEXT NOT NULL,
    model TEXT,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    request_body TEXT,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    status_text TEXT NOT NULL,
    response_headers TEXT NOT NULL,
    started_at REAL NOT NULL,
    duration_ms REAL,
    outcome TEXT NOT NULL,
    error TEXT,
    event_count INTEGER NOT NULL DEFAULT 0,
    byte_length INTEGER NOT NULL DEFAULT 0,
    segment_count INTEGER NOT NULL DEFAULT 0,
    first_event_ms REAL,
    tags TEXT,
    writer TEXT
  );
  CREATE INDEX tapes_upstream_span_id ON tapes (upstream_span_id);
  CREATE INDEX tapes_response_id ON tapes (response_id);
  CREATE INDEX tapes_request_hash ON tapes (request_hash);
  CREATE INDEX tapes_family ON tapes (family);
  CREATE INDEX tapes_outcome ON tapes (outcome);
  CREATE INDEX tapes_started_at ON tapes (started_at, id);
  -- Raw bytes, one row per append: the chunks of that append concatenated, plus each chunk's
  -- arrival offset and length (JSON [[offsetMs, byteLength], ...]).
  CREATE TABLE segments (
    tape_id INTEGER NOT NULL REFERENCES tapes (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    byte_start INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    chunks TEXT NOT NULL,
    PRIMARY KEY (tape_id, seq)
  );
  -- Events, one row per append, packed: per event six float64s (index, offsetMs, byteStart,
  -- byteEnd, retry or -1, 1 when data is stored) and three uint32 lengths (type, id, data), with
  -- the strings concatenated in text. An event's data is stored only when it is not simply what
  -- its bytes say; otherwise it is read from raw[byteStart, byteEnd), the source of truth.
  CREATE TABLE event_batches (
    tape_id INTEGER NOT NULL REFERENCES tapes (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    first_index INTEGER NOT NULL,
    count INTEGER NOT NULL,
    numbers BLOB NOT NULL,
    lengths BLOB NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (tape_id, seq)
  );
  `,
  // Version 2: the events the writer thread frames (no stored data) take a fifth of the room.
  // Encoding 1 is the one above. Encoding 2 (index = first_index + position in the batch):
  // numbers, per event two float64s (offsetMs, byteStart); lengths, per event three uint32s
  // (byteEnd - byteStart, type, id), the last two indexes into text, the JSON
  // [types, ids, [[position, retry], ...]].
  `
  ALTER TABLE event_batches ADD COLUMN encoding INTEGER NOT NULL DEFAULT 1;
  `,
];

/**
 * An error with a tapedeck error code; the TypeScript layer turns it into a TapedeckError.
 * @param {string} code
 * @param {string} message
 * @param {Record<string, unknown>} [context]
 * @param {unknown} [cause]
 */
export function coreError(code, message, context = {}, cause = undefined) {
  const error = /** @type {Error & {code: string; context: Record<string, unknown>}} */ (
    new Error(message, { cause })
  );
  error.code = code;
  error.context = context;
  return error;
}

const WRITER = `${hostname()}:${process.pid}`;

/**
 * True when the process that wrote `writer` (host:pid) is certainly gone.
 * @param {string | null} writer
 */
function writerIsGone(writer) {
  if (!writer) return true;
  const separator = writer.lastIndexOf(':');
  if (writer.slice(0, separator) !== hostname()) return false;
  const pid = Number(writer.slice(separator + 1));
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return /** @type {{code?: string}} */ (error).code === 'ESRCH';
  }
}

/**
 * Opens (creating with mode 0600 and migrating as needed) a tape database.
 * @param {{path: string; markIncomplete?: boolean}} options
 */
export function openTapeDatabase({ path, markIncomplete = true }) {
  let readonly = false;
  if (path !== ':memory:') {
    try {
      // Create the file ourselves so it is private from the first byte; SQLite gives the -wal
      // and -shm files the same permissions.
      closeSync(openSync(path, 'a', 0o600));
    } catch (error) {
      const code = /** @type {{code?: string}} */ (error).code;
      // A database the process may read but not write still opens: reads work, and every
      // write fails with a STORE_FAILURE the recorder reports without touching any stream.
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw error;
      readonly = true;
    }
  }
  const db = new Database(path, { readonly, fileMustExist: readonly });
  try {
    if (readonly) {
      const version = /** @type {number} */ (db.pragma('user_version', { simple: true }));
      // An older layout reads as it is (nothing can be written to migrate it).
      if (version < 1 || version > SQLITE_SCHEMA_VERSION) {
        throw coreError(
          version > SQLITE_SCHEMA_VERSION ? 'SCHEMA_VERSION_MISMATCH' : 'STORE_FAILURE',
          `the tape database ${path} is read-only and has schema version ${version}; this @tapedeck/recorder reads 1 to ${SQLITE_SCHEMA_VERSION}`,
          { path, found: version, expected: SQLITE_SCHEMA_VERSION },
        );
      }
      db.pragma('busy_timeout = 10000');
      return db;
    }
    // Tapes are mostly large BLOBs: bigger pages mean fewer overflow pages per segment. Only
    // takes effect on a new, empty file.
    db.pragma('page_size = 16384');
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 10000');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    migrate(db, path);
    if (markIncomplete) markOrphansIncomplete(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * @param {import('better-sqlite3').Database} db
 * @param {string} path
 */
function migrate(db, path) {
  const version = /** @type {number} */ (db.pragma('user_version', { simple: true }));
  if (version > SQLITE_SCHEMA_VERSION) {
    throw coreError(
      'SCHEMA_VERSION_MISMATCH',
      `the tape database ${path} has schema version ${version}, newer than this @tapedeck/recorder understands (${SQLITE_SCHEMA_VERSION}); upgrade @tapedeck/recorder or use another file`,
      { path, found: version, expected: SQLITE_SCHEMA_VERSION },
    );
  }
  if (version === SQLITE_SCHEMA_VERSION) return;
  db.transaction(() => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    let current = /** @type {number} */ (db.pragma('user_version', { simple: true }));
    for (; current < SQLITE_SCHEMA_VERSION; current++) {
      db.exec(/** @type {string} */ (MIGRATIONS[current]));
    }
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * Tapes still `recording` whose writer process is gone were cut off mid-stream.
 * @param {import('better-sqlite3').Database} db
 */
function markOrphansIncomplete(db) {
  const rows = /** @type {Array<{id: number; writer: string | null}>} */ (
    db.prepare("SELECT id, writer FROM tapes WHERE outcome = 'recording'").all()
  );
  const orphans = rows.filter((row) => writerIsGone(row.writer));
  if (orphans.length === 0) return;
  const update = db.prepare(
    `UPDATE tapes SET outcome = 'incomplete',
       error = 'the recording process ended before the stream finished; the tape keeps every flushed event'
     WHERE id = ? AND outcome = 'recording'`,
  );
  db.transaction(() => {
    for (const row of orphans) update.run(row.id);
  }).immediate();
}

const blockDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The `data` of one dispatched SSE event from its exact bytes (through the blank line that
 * dispatched it), per the WHATWG rules: `data` lines joined with LF, one leading space removed,
 * comments and other fields ignored. Only the stream's first byte may be a BOM.
 * @param {Uint8Array} block
 * @param {boolean} atStreamStart
 */
export function eventDataFromBytes(block, atStreamStart) {
  let text = blockDecoder.decode(block);
  if (atStreamStart && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  /** @type {string[]} */
  const data = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '' || line.charCodeAt(0) === 58) continue;
    const colon = line.indexOf(':');
    if ((colon === -1 ? line : line.slice(0, colon)) !== 'data') continue;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    data.push(value);
  }
  return data.join('\n');
}

/**
 * Events packed for a cheap trip to the writer thread: numbers in one Float64Array
 * (index, offsetMs, byteStart, byteEnd, retry or -1, 1 when `data` is included), and the
 * type, id and included data strings concatenated with their lengths. Events without data
 * get it from the tape's raw bytes.
 * @typedef {{count: number; numbers: Float64Array; text: string; lengths: Uint32Array}} PackedEvents
 */

/**
 * Packs events for {@link PackedEvents}: framed ones (no `data`: it is read from the raw bytes)
 * and ones that carry their data (an imported tape, a store caller's own events). The store
 * packs a caller's events with it on the calling thread, the writer thread its framed ones.
 * @param {ReadonlyArray<{index: number; offsetMs: number; byteStart: number; byteEnd: number; type: string; id: string; data?: string; retry?: number}>} events
 * @returns {PackedEvents}
 */
export function packEvents(events) {
  const count = events.length;
  const numbers = new Float64Array(count * 6);
  const lengths = new Uint32Array(count * 3);
  /** @type {string[]} */
  const parts = [];
  for (let i = 0; i < count; i++) {
    const event = /** @type {(typeof events)[number]} */ (events[i]);
    // Read once: a caller's event may compute `data` in a getter.
    const data = event.data;
    const n = i * 6;
    numbers[n] = event.index;
    numbers[n + 1] = event.offsetMs;
    numbers[n + 2] = event.byteStart;
    numbers[n + 3] = event.byteEnd;
    numbers[n + 4] = event.retry ?? -1;
    numbers[n + 5] = data === undefined ? 0 : 1;
    const l = i * 3;
    lengths[l] = event.type.length;
    lengths[l + 1] = event.id.length;
    parts.push(event.type, event.id);
    if (data !== undefined) {
      lengths[l + 2] = data.length;
      parts.push(data);
    }
  }
  return { count, numbers, lengths, text: parts.join('') };
}

/**
 * The event_batches values (from first_index on) of events in encoding 1.
 * @param {PackedEvents} packed
 */
function packedBatch(packed) {
  return [
    packed.numbers[0],
    packed.count,
    Buffer.from(packed.numbers.buffer, packed.numbers.byteOffset, packed.count * 6 * 8),
    Buffer.from(packed.lengths.buffer, packed.lengths.byteOffset, packed.count * 3 * 4),
    packed.text,
    1,
  ];
}

/**
 * The event_batches values (from first_index on) of framed events in encoding 2.
 * @param {CompactEvents} compact
 */
function compactBatch(compact) {
  const { places, sizes } = compact;
  return [
    compact.firstIndex,
    compact.count,
    Buffer.from(places.buffer, places.byteOffset, places.byteLength),
    Buffer.from(sizes.buffer, sizes.byteOffset, sizes.byteLength),
    compact.strings,
    2,
  ];
}

/**
 * @param {Array<{offsetMs: number; bytes: Uint8Array}> | undefined} chunks
 * @returns {{bytes: Uint8Array; timings: Float64Array} | undefined}
 */
function joinChunks(chunks) {
  if (!chunks || chunks.length === 0) return undefined;
  const timings = new Float64Array(chunks.length * 2);
  chunks.forEach((chunk, i) => {
    timings[i * 2] = chunk.offsetMs;
    timings[i * 2 + 1] = chunk.bytes.byteLength;
  });
  const bytes =
    chunks.length === 1
      ? /** @type {Uint8Array} */ (chunks[0]?.bytes)
      : Buffer.concat(chunks.map((chunk) => chunk.bytes));
  return { bytes, timings };
}

/**
 * @param {PackedEvents} packed
 * @returns {Array<{index: number; offsetMs: number; byteStart: number; byteEnd: number; type: string; id: string; data: string | undefined; retry?: number}>}
 */
function unpackEvents(packed) {
  const events = [];
  let position = 0;
  for (let i = 0; i < packed.count; i++) {
    const n = i * 6;
    const typeLength = /** @type {number} */ (packed.lengths[i * 3]);
    const idLength = /** @type {number} */ (packed.lengths[i * 3 + 1]);
    const dataLength = /** @type {number} */ (packed.lengths[i * 3 + 2]);
    const type = packed.text.slice(position, position + typeLength);
    position += typeLength;
    const id = packed.text.slice(position, position + idLength);
    position += idLength;
    let data;
    if (packed.numbers[n + 5] === 1) {
      data = packed.text.slice(position, position + dataLength);
      position += dataLength;
    }
    const retry = /** @type {number} */ (packed.numbers[n + 4]);
    /** @type {any} */
    const event = {
      index: packed.numbers[n],
      offsetMs: packed.numbers[n + 1],
      byteStart: packed.numbers[n + 2],
      byteEnd: packed.numbers[n + 3],
      type,
      id,
      data,
    };
    if (retry >= 0) event.retry = retry;
    events.push(event);
  }
  return events;
}

/**
 * The events a writer thread framed, in encoding 2 (see MIGRATIONS): made by the framer's
 * `takeCompact`, stored in one event_batches row.
 * @typedef {{count: number; firstIndex: number; places: Float64Array; sizes: Uint32Array; strings: string}} CompactEvents
 */

/**
 * @param {CompactEvents} compact
 * @returns {Array<{index: number; offsetMs: number; byteStart: number; byteEnd: number; type: string; id: string; data: string | undefined; retry?: number}>}
 */
export function unpackCompactEvents({ count, firstIndex, places, sizes, strings }) {
  const [types, ids, retries] = /** @type {[string[], string[], Array<[number, number]>]} */ (
    JSON.parse(strings)
  );
  const events = [];
  for (let i = 0; i < count; i++) {
    const byteStart = /** @type {number} */ (places[i * 2 + 1]);
    events.push(
      /** @type {{index: number; offsetMs: number; byteStart: number; byteEnd: number; type: string; id: string; data: string | undefined; retry?: number}} */ ({
        index: firstIndex + i,
        offsetMs: /** @type {number} */ (places[i * 2]),
        byteStart,
        byteEnd: byteStart + /** @type {number} */ (sizes[i * 3]),
        type: /** @type {string} */ (types[/** @type {number} */ (sizes[i * 3 + 1])]),
        id: /** @type {string} */ (ids[/** @type {number} */ (sizes[i * 3 + 2])]),
        data: undefined,
      }),
    );
  }
  for (const [position, retry] of retries) {
    const event = events[position];
    if (event) event.retry = retry;
  }
  return events;
}

/** @param {string | null} text */
const parseJson = (text) => (text === null ? undefined : JSON.parse(text));

/**
 * @param {any} row
 * @returns {import('@tapedeck/types').TapeSummary}
 */
function rowToSummary(row) {
  /** @type {any} */
  const summary = {
    schemaVersion: 1,
    spanId: row.span_id,
    traceId: row.trace_id,
    family: row.family,
    request: {
      method: row.method,
      url: row.url,
      headers: JSON.parse(row.request_headers),
      body: row.request_body,
    },
    requestHash: row.request_hash,
    response: {
      status: row.status,
      statusText: row.status_text,
      headers: JSON.parse(row.response_headers),
    },
    startedAt: row.started_at,
    outcome: row.outcome,
    eventCount: row.event_count,
    byteLength: row.byte_length,
  };
  if (row.upstream_span_id !== null) summary.upstreamSpanId = row.upstream_span_id;
  if (row.response_id !== null) summary.responseId = row.response_id;
  if (row.model !== null) summary.model = row.model;
  if (row.duration_ms !== null) summary.durationMs = row.duration_ms;
  if (row.error !== null) summary.error = row.error;
  if (row.first_event_ms !== null) summary.firstEventMs = row.first_event_ms;
  const tags = parseJson(row.tags);
  if (tags !== undefined) summary.tags = tags;
  return summary;
}

/**
 * @param {string} cursor
 * @returns {{startedAt: number; id: number}}
 */
function decodeCursor(cursor) {
  try {
    const [startedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof startedAt === 'number' && typeof id === 'number') return { startedAt, id };
  } catch {}
  throw coreError(
    'INVALID_ARGUMENT',
    `list: cursor ${JSON.stringify(cursor)} is not a cursor from a previous page`,
  );
}

/** The `list` query's filters and the condition each adds, in the order they are applied. */
const LIST_FILTERS = /** @type {const} */ ([
  ['family', 'family = ?'],
  ['outcome', 'outcome = ?'],
  ['since', 'started_at >= ?'],
  ['until', 'started_at < ?'],
  ['urlContains', 'instr(url, ?) > 0'],
  ['requestHash', 'request_hash = ?'],
]);

/**
 * The synchronous store over one open database.
 * @param {import('better-sqlite3').Database} db
 */
export function createTapeCore(db) {
  const currentVersion = () => /** @type {number} */ (db.pragma('user_version', { simple: true }));
  // A read-only database may have an older layout: version 1 has no encoding column (and
  // another process may migrate it while this one reads: see `batchesOf`).
  let version = currentVersion();
  /** @param {number} layout */
  const eventBatchesStatement = (layout) =>
    db.prepare(
      `SELECT count, first_index, numbers, lengths, text, ${layout >= 2 ? 'encoding' : '1 AS encoding'}
       FROM event_batches WHERE tape_id = ? ORDER BY seq`,
    );
  const statements = {
    insertTape: db.prepare(
      `INSERT INTO tapes (span_id, trace_id, upstream_span_id, response_id, family, model, method, url,
         request_headers, request_body, request_hash, status, status_text, response_headers, started_at,
         duration_ms, outcome, error, event_count, byte_length, first_event_ms, tags, writer)
       VALUES (@spanId, @traceId, @upstreamSpanId, @responseId, @family, @model, @method, @url,
         @requestHeaders, @requestBody, @requestHash, @status, @statusText, @responseHeaders, @startedAt,
         @durationMs, @outcome, @error, 0, 0, NULL, @tags, @writer)`,
    ),
    deleteBySpanId: db.prepare('DELETE FROM tapes WHERE span_id = ?'),
    tapeForAppend: db.prepare(
      'SELECT id, byte_length, segment_count, event_count FROM tapes WHERE span_id = ?',
    ),
    insertSegment: db.prepare(
      'INSERT INTO segments (tape_id, seq, byte_start, bytes, chunks) VALUES (?, ?, ?, ?, ?)',
    ),
    // Batches are numbered 0, 1, 2… and only ever deleted with their tape: the next number is
    // one past the highest, found in the primary key (counting them grows with the tape).
    nextEventBatch: db.prepare(
      'SELECT COALESCE(MAX(seq) + 1, 0) AS seq FROM event_batches WHERE tape_id = ?',
    ),
    updateAfterAppend: db.prepare(
      `UPDATE tapes SET byte_length = ?, segment_count = ?, event_count = ?,
         first_event_ms = COALESCE(first_event_ms, ?) WHERE id = ?`,
    ),
    finish: db.prepare(
      `UPDATE tapes SET outcome = @outcome, error = @error, duration_ms = @durationMs,
         family = COALESCE(@family, family),
         upstream_span_id = COALESCE(@upstreamSpanId, upstream_span_id),
         response_id = COALESCE(@responseId, response_id),
         model = COALESCE(@model, model)
       WHERE span_id = @spanId`,
    ),
    learn: db.prepare(
      `UPDATE tapes SET family = @family,
         upstream_span_id = COALESCE(@upstreamSpanId, upstream_span_id),
         response_id = COALESCE(@responseId, response_id),
         model = COALESCE(@model, model)
       WHERE span_id = @spanId`,
    ),
    findTape: db.prepare(
      `SELECT * FROM tapes WHERE span_id = @id OR upstream_span_id = @id OR response_id = @id
       ORDER BY span_id = @id DESC, upstream_span_id = @id DESC, started_at DESC LIMIT 1`,
    ),
    segments: db.prepare('SELECT bytes, chunks FROM segments WHERE tape_id = ? ORDER BY seq'),
    segmentsBefore: db.prepare(
      'SELECT bytes FROM segments WHERE tape_id = ? AND byte_start < ? ORDER BY seq',
    ),
    eventBatches: eventBatchesStatement(version),
    deleteById: db.prepare('DELETE FROM tapes WHERE id = ?'),
    tapeExists: db.prepare('SELECT 1 FROM tapes WHERE id = ?'),
    prune: db.prepare('DELETE FROM tapes WHERE started_at < ?'),
    totals: db.prepare(
      `SELECT COUNT(*) AS tapes, COALESCE(SUM(event_count), 0) AS events,
         COALESCE(SUM(byte_length), 0) AS bytes, MIN(started_at) AS oldest, MAX(started_at) AS newest
       FROM tapes`,
    ),
    byOutcome: db.prepare('SELECT outcome AS key, COUNT(*) AS count FROM tapes GROUP BY outcome'),
    byFamily: db.prepare('SELECT family AS key, COUNT(*) AS count FROM tapes GROUP BY family'),
  };

  /**
   * @param {any} head
   * @param {string} outcome
   */
  const headParams = (head, outcome) => ({
    spanId: head.spanId,
    traceId: head.traceId,
    upstreamSpanId: head.upstreamSpanId ?? null,
    responseId: head.responseId ?? null,
    family: head.family,
    model: head.model ?? null,
    method: head.request.method,
    url: head.request.url,
    requestHeaders: JSON.stringify(head.request.headers ?? {}),
    requestBody: head.request.body ?? null,
    requestHash: head.requestHash,
    status: head.response.status,
    statusText: head.response.statusText,
    responseHeaders: JSON.stringify(head.response.headers ?? {}),
    startedAt: head.startedAt,
    durationMs: head.durationMs ?? null,
    outcome,
    error: head.error ?? null,
    tags: head.tags === undefined ? null : JSON.stringify(head.tags),
    writer: outcome === 'recording' ? WRITER : null,
  });

  /**
   * @param {string} spanId
   * @param {{chunks: Array<{offsetMs: number; bytes: Uint8Array}>; events: any[]}} data
   */
  function append(spanId, data) {
    const tape = /** @type {any} */ (statements.tapeForAppend.get(spanId));
    if (!tape) {
      throw coreError('TAPE_NOT_FOUND', `append: no tape with spanId ${spanId}; call put first`, {
        tapeId: spanId,
      });
    }
    let byteLength = tape.byte_length;
    let segmentCount = tape.segment_count;
    // Either chunks, or one pre-joined segment with [offsetMs, byteLength] pairs in timings.
    const segment = data.segment ?? joinChunks(data.chunks);
    if (segment && segment.bytes.byteLength > 0) {
      /** @type {number[][]} */
      const timings = [];
      for (let i = 0; i < segment.timings.length; i += 2) {
        timings.push([
          /** @type {number} */ (segment.timings[i]),
          /** @type {number} */ (segment.timings[i + 1]),
        ]);
      }
      statements.insertSegment.run(
        tape.id,
        segmentCount,
        byteLength,
        Buffer.from(segment.bytes.buffer, segment.bytes.byteOffset, segment.bytes.byteLength),
        JSON.stringify(timings),
      );
      segmentCount += 1;
      byteLength += segment.bytes.byteLength;
    }
    let eventCount = tape.event_count;
    let firstEventMs = null;
    /** @type {unknown[] | undefined} */
    let batch;
    let appended = 0;
    /** @type {{events?: Array<{type: string; data: string}>; done: boolean} | undefined} */
    let leading;
    if (data.frame === true) {
      const compact = frameSegment(tape, segment);
      leading = takeLeading(tape.id, segment?.bytes, compact);
      appended = compact.count;
      if (compact.count > 0) {
        // Found in the bytes just stored, so they lie within them; arrival offsets only grow.
        eventCount = Math.max(eventCount, compact.firstIndex + compact.count);
        firstEventMs = compact.places[0];
        batch = compactBatch(compact);
      }
    } else {
      const packed = data.packedEvents ?? packEvents(data.events);
      appended = packed.count;
      for (let i = 0; i < packed.count; i++) {
        const index = /** @type {number} */ (packed.numbers[i * 6]);
        const offsetMs = /** @type {number} */ (packed.numbers[i * 6 + 1]);
        const byteStart = /** @type {number} */ (packed.numbers[i * 6 + 2]);
        const byteEnd = /** @type {number} */ (packed.numbers[i * 6 + 3]);
        if (byteEnd > byteLength || byteStart > byteEnd) {
          throw coreError(
            'INVALID_TAPE',
            `append: event ${index} spans bytes ${byteStart}..${byteEnd} but the tape has ${byteLength} bytes`,
            { tapeId: spanId, eventIndex: index, byteOffset: byteStart },
          );
        }
        eventCount = Math.max(eventCount, index + 1);
        if (firstEventMs === null || offsetMs < firstEventMs) firstEventMs = offsetMs;
      }
      if (packed.count > 0) batch = packedBatch(packed);
    }
    if (batch) insertEventBatch(tape.id, batch);
    statements.updateAfterAppend.run(byteLength, segmentCount, eventCount, firstEventMs, tape.id);
    const result = { events: appended, dropped: framers.get(tape.id)?.dropped() ?? 0 };
    if (!leading) return result;
    return leading.events
      ? { ...result, leading: leading.events, leadingDone: leading.done }
      : { ...result, leadingDone: leading.done };
  }

  /**
   * Appends one event_batches row to a tape.
   * @param {number} tapeId
   * @param {unknown[]} values - first_index, count, numbers, lengths, text, encoding
   */
  function insertEventBatch(tapeId, values) {
    const seq = /** @type {{seq: number}} */ (statements.nextEventBatch.get(tapeId)).seq;
    // Prepared when first needed: a read-only version 1 database has no encoding column.
    insertEventBatchStatement ??= db.prepare(
      `INSERT INTO event_batches (tape_id, seq, first_index, count, numbers, lengths, text, encoding)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    insertEventBatchStatement.run(tapeId, seq, ...values);
  }
  /** @type {import('better-sqlite3').Statement | undefined} */
  let insertEventBatchStatement;

  // Framers of tapes being recorded in frame mode, by tape row id: the writer thread finds the
  // events in the bytes it stores, so the recorder's thread never parses them.
  /** @type {Map<number, ReturnType<typeof createFramer>>} */
  const framers = new Map();
  // Tapes still handing back their leading events, by row id: a copy of their bytes from the end
  // of the last event handed back (`base`, an offset in the tape) up to what has been framed.
  /** @type {Map<number, {bytes: Uint8Array; base: number; length: number; count: number}>} */
  const leadings = new Map();

  /**
   * Keeps `bytes` (the tape's next bytes) while the tape hands back leading events, and returns
   * those of `compact` (just framed) that are among its first {@link LEADING_EVENTS} within its
   * first {@link LEADING_MAX_BYTES}, and whether the tape is done handing them back.
   * @param {number} tapeId
   * @param {Uint8Array | undefined} bytes
   * @param {CompactEvents} compact
   * @returns {{events?: Array<{type: string; data: string}>; done: boolean} | undefined} undefined
   *   once the tape has said it is done
   */
  function takeLeading(tapeId, bytes, compact) {
    const leading = leadings.get(tapeId);
    if (!leading) return undefined;
    if (leading.count >= LEADING_EVENTS) {
      leadings.delete(tapeId);
      return { done: true };
    }
    const kept = leading.base + leading.length;
    if (bytes && kept < LEADING_MAX_BYTES) {
      const take = Math.min(bytes.byteLength, LEADING_MAX_BYTES - kept);
      if (leading.length + take > leading.bytes.length) {
        const grown = new Uint8Array(Math.max(4096, (leading.length + take) * 2));
        grown.set(leading.bytes.subarray(0, leading.length));
        leading.bytes = grown;
      }
      leading.bytes.set(bytes.subarray(0, take), leading.length);
      leading.length += take;
    }
    /** @type {Array<{type: string; data: string}> | undefined} */
    let events;
    if (compact.count > 0) {
      const types = /** @type {string[]} */ (JSON.parse(compact.strings)[0]);
      let consumed = leading.base;
      for (let i = 0; i < compact.count && leading.count < LEADING_EVENTS; i++) {
        const start = /** @type {number} */ (compact.places[i * 2 + 1]);
        const end = start + /** @type {number} */ (compact.sizes[i * 3]);
        if (end > leading.base + leading.length) {
          // Past the first MiB: no later event lies within it either.
          leading.count = LEADING_EVENTS;
          break;
        }
        events ??= [];
        events.push({
          type: /** @type {string} */ (types[/** @type {number} */ (compact.sizes[i * 3 + 1])]),
          // The framer's ranges start after a BOM.
          data: eventDataFromBytes(
            leading.bytes.subarray(start - leading.base, end - leading.base),
            false,
          ),
        });
        leading.count += 1;
        consumed = end;
      }
      // Only the event still being framed needs its bytes kept.
      const drop = consumed - leading.base;
      if (drop > 0) {
        leading.bytes.copyWithin(0, drop, leading.length);
        leading.length -= drop;
        leading.base = consumed;
      }
    }
    const done =
      leading.count >= LEADING_EVENTS || leading.base + leading.length >= LEADING_MAX_BYTES;
    if (done) leadings.delete(tapeId);
    return events ? { events, done } : { done };
  }

  /**
   * Lets go of what the writer holds for framing a tape (by row id).
   * @param {number} tapeId
   */
  function forgetFraming(tapeId) {
    framers.delete(tapeId);
    leadings.delete(tapeId);
  }

  /**
   * Feeds a segment to its tape's framer; returns the events it completed, compact.
   * @param {{id: number; byte_length: number}} tape
   * @param {{bytes: Uint8Array; timings: Float64Array} | undefined} segment
   * @returns {CompactEvents}
   */
  function frameSegment(tape, segment) {
    let framer = framers.get(tape.id);
    if (!framer) {
      framer = createFramer();
      framers.set(tape.id, framer);
      // A tape seen from its first byte hands back its leading events; one this thread did not
      // see begin only says, once, that none will come.
      leadings.set(tape.id, {
        bytes: new Uint8Array(0),
        base: 0,
        length: 0,
        count: tape.byte_length === 0 ? 0 : LEADING_EVENTS,
      });
      if (tape.byte_length > 0) {
        // This thread did not see the start of the tape (the store was reopened): catch up
        // from the stored bytes; those events are stored already.
        const earlier = /** @type {Array<{bytes: Buffer}>} */ (
          statements.segmentsBefore.all(tape.id, tape.byte_length)
        );
        for (const row of earlier) framer.add(row.bytes, 0);
        framer.takeCompact();
      }
    }
    if (!segment) return framer.takeCompact();
    const bytes = segment.bytes;
    let at = 0;
    for (let i = 0; i < segment.timings.length; i += 2) {
      const length = /** @type {number} */ (segment.timings[i + 1]);
      framer.add(bytes.subarray(at, at + length), /** @type {number} */ (segment.timings[i]));
      at += length;
    }
    return framer.takeCompact();
  }

  /** @param {any} tape */
  function put(tape) {
    statements.deleteBySpanId.run(tape.spanId);
    const isWhole = tape.raw instanceof Uint8Array;
    const inserted = statements.insertTape.run(
      headParams(tape, isWhole ? tape.outcome : 'recording'),
    );
    // A new tape may reuse a deleted tape's row id.
    forgetFraming(Number(inserted.lastInsertRowid));
    if (!isWhole) return;
    /** @type {Array<{offsetMs: number; bytes: Uint8Array}>} */
    const chunks = [];
    let offset = 0;
    for (const chunk of tape.chunks) {
      chunks.push({
        offsetMs: chunk.offsetMs,
        bytes: tape.raw.subarray(offset, offset + chunk.byteLength),
      });
      offset += chunk.byteLength;
    }
    if (offset < tape.raw.byteLength) {
      chunks.push({ offsetMs: tape.durationMs ?? 0, bytes: tape.raw.subarray(offset) });
    }
    append(tape.spanId, { chunks, events: tape.events });
  }

  /**
   * @param {string} spanId
   * @param {any} finish
   */
  function finish(spanId, finish) {
    const tape = /** @type {any} */ (statements.tapeForAppend.get(spanId));
    const framer = tape ? framers.get(tape.id) : undefined;
    /** @type {Array<{type: string; data: string}> | undefined} */
    let leading;
    if (tape && framer) {
      // A blank line ending in CR as the very last byte dispatches only now.
      framer.close(finish.durationMs);
      const last = framer.takeCompact();
      leading = takeLeading(tape.id, undefined, last)?.events;
      forgetFraming(tape.id);
      if (last.count > 0) {
        insertEventBatch(tape.id, compactBatch(last));
        statements.updateAfterAppend.run(
          tape.byte_length,
          tape.segment_count,
          Math.max(tape.event_count, last.firstIndex + last.count),
          last.places[0],
          tape.id,
        );
      }
    }
    const result = statements.finish.run({
      spanId,
      outcome: finish.outcome,
      error: finish.error ?? null,
      durationMs: finish.durationMs,
      family: finish.family ?? null,
      upstreamSpanId: finish.upstreamSpanId ?? null,
      responseId: finish.responseId ?? null,
      model: finish.model ?? null,
    });
    if (result.changes === 0) {
      throw coreError('TAPE_NOT_FOUND', `finish: no tape with spanId ${spanId}; call put first`, {
        tapeId: spanId,
      });
    }
    return leading ? { leading } : undefined;
  }

  /**
   * Records what a tape's leading events said about it (see LEARN_KEYS in internal.ts): its
   * family, and its keys as `finish` takes them.
   * @param {string} spanId
   * @param {{family: string; upstreamSpanId?: string; responseId?: string; model?: string}} keys
   */
  function learn(spanId, keys) {
    statements.learn.run({
      spanId,
      family: keys.family,
      upstreamSpanId: keys.upstreamSpanId ?? null,
      responseId: keys.responseId ?? null,
      model: keys.model ?? null,
    });
  }

  /**
   * A tape's event_batches rows. On a database opened at version 1, the version is checked
   * again first: once another process has migrated it, rows may be in encoding 2.
   * @param {number} tapeId
   */
  function batchesOf(tapeId) {
    if (version < 2) {
      const now = currentVersion();
      if (now >= 2) {
        version = now;
        statements.eventBatches = eventBatchesStatement(version);
      }
    }
    return /** @type {Array<{count: number; first_index: number; numbers: Buffer; lengths: Buffer; text: string; encoding: number}>} */ (
      statements.eventBatches.all(tapeId)
    );
  }

  /** @param {string} id */
  function getUnlocked(id) {
    const row = /** @type {any} */ (statements.findTape.get({ id }));
    if (!row) return undefined;
    const summary = /** @type {any} */ (rowToSummary(row));
    const segments = /** @type {Array<{bytes: Buffer; chunks: string}>} */ (
      statements.segments.all(row.id)
    );
    const raw = new Uint8Array(row.byte_length);
    /** @type {Array<{offsetMs: number; byteLength: number}>} */
    const chunks = [];
    let offset = 0;
    for (const segment of segments) {
      raw.set(segment.bytes, offset);
      offset += segment.bytes.byteLength;
      for (const [offsetMs, byteLength] of JSON.parse(segment.chunks)) {
        chunks.push({ offsetMs, byteLength });
      }
    }
    /** @type {any[]} */
    const events = [];
    for (const batch of batchesOf(row.id)) {
      // Copy into aligned buffers: a Buffer from SQLite may start at any byte offset.
      const numbers = new Float64Array(new Uint8Array(batch.numbers).buffer);
      const lengths = new Uint32Array(new Uint8Array(batch.lengths).buffer);
      const unpacked =
        batch.encoding === 2
          ? unpackCompactEvents({
              count: batch.count,
              firstIndex: batch.first_index,
              places: numbers,
              sizes: lengths,
              strings: batch.text,
            })
          : unpackEvents({ count: lengths.length / 3, numbers, lengths, text: batch.text });
      for (const event of unpacked) {
        if (event.data === undefined) {
          event.data = eventDataFromBytes(
            raw.subarray(event.byteStart, event.byteEnd),
            event.byteStart === 0,
          );
        }
        events.push(event);
      }
    }
    events.sort((a, b) => a.index - b.index);
    summary.raw = raw;
    summary.chunks = chunks;
    summary.events = events;
    return summary;
  }

  // One read transaction, so a tape another process is appending to reads consistently.
  const get = db.transaction(getUnlocked);

  /** @param {any} [query] */
  function list(query = {}) {
    const where = [];
    /** @type {unknown[]} */
    const params = [];
    for (const [name, clause] of LIST_FILTERS) {
      if (query[name] === undefined) continue;
      where.push(clause);
      params.push(query[name]);
    }
    const descending = query.order !== 'asc';
    if (query.cursor !== undefined) {
      const cursor = decodeCursor(query.cursor);
      where.push(
        descending
          ? '(started_at < ? OR (started_at = ? AND id < ?))'
          : '(started_at > ? OR (started_at = ? AND id > ?))',
      );
      params.push(cursor.startedAt, cursor.startedAt, cursor.id);
    }
    const limit = Math.max(1, Math.min(10_000, Math.trunc(query.limit ?? 100)));
    const direction = descending ? 'DESC' : 'ASC';
    const sql = `SELECT * FROM tapes ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY started_at ${direction}, id ${direction} LIMIT ?`;
    const rows = /** @type {any[]} */ (db.prepare(sql).all(...params, limit + 1));
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    /** @type {{tapes: any[]; nextCursor?: string}} */
    const result = { tapes: page.map(rowToSummary) };
    if (rows.length > limit && last) {
      result.nextCursor = Buffer.from(JSON.stringify([last.started_at, last.id])).toString(
        'base64url',
      );
    }
    return result;
  }

  /** @param {string} id */
  function remove(id) {
    const row = /** @type {any} */ (statements.findTape.get({ id }));
    if (!row) return false;
    statements.deleteById.run(row.id);
    forgetFraming(row.id);
    return true;
  }

  /** @param {{olderThan: number}} options */
  function prune({ olderThan }) {
    const pruned = statements.prune.run(olderThan).changes;
    if (pruned > 0) {
      for (const tapeId of framers.keys()) {
        if (!statements.tapeExists.get(tapeId)) forgetFraming(tapeId);
      }
    }
    return pruned;
  }

  function stats() {
    const totals = /** @type {any} */ (statements.totals.get());
    /** @type {any} */
    const result = {
      tapes: totals.tapes,
      events: totals.events,
      bytes: totals.bytes,
      byOutcome: {},
      byFamily: {},
    };
    for (const row of /** @type {any[]} */ (statements.byOutcome.all())) {
      result.byOutcome[row.key] = row.count;
    }
    for (const row of /** @type {any[]} */ (statements.byFamily.all())) {
      result.byFamily[row.key] = row.count;
    }
    if (totals.oldest !== null) result.oldestStartedAt = totals.oldest;
    if (totals.newest !== null) result.newestStartedAt = totals.newest;
    return result;
  }

  const transaction = db.transaction(
    /** @param {Array<{op: string; args: any[]}>} operations */
    (operations) => operations.map(attempt),
  );
  const runInSavepoint = db.transaction(
    /** @param {{op: string; args: any[]}} operation */
    (operation) => run(operation),
  );
  /**
   * One operation in its own savepoint: one that fails leaves the others of its batch written.
   * @param {{op: string; args: any[]}} operation
   */
  function attempt(operation) {
    try {
      return { ok: true, value: runInSavepoint(operation) };
    } catch (error) {
      return { ok: false, error: serializeError(error) };
    }
  }

  // Where a tick's chunks are gathered tape by tape; kept from tick to tick (fresh memory would
  // cost its page faults every time) up to SCRATCH_KEPT_BYTES.
  let scratch = new Uint8Array(0);

  /**
   * Frames and appends one flush tick of many tapes (see TickBatch in internal.ts): each tape's
   * chunks are gathered, in order, into its own stretch of the scratch buffer, then appended in
   * its own savepoint (one failing append leaves the others written). Returns one result per
   * tape in order, and the arenas, for the caller to hand back.
   * @param {{spanIds: string[]; arenas: ArrayBuffer[]; arenaLengths: number[]; chunks: Float64Array}} batch
   */
  function appendTick({ spanIds, arenas, arenaLengths, chunks }) {
    const tapes = spanIds.length;
    const byteLengths = new Float64Array(tapes);
    const chunkCounts = new Uint32Array(tapes);
    for (let at = 0; at < chunks.length; at += 3) {
      const tape = /** @type {number} */ (chunks[at]);
      byteLengths[tape] += /** @type {number} */ (chunks[at + 2]);
      chunkCounts[tape] += 1;
    }
    const byteStarts = new Float64Array(tapes);
    const timingStarts = new Uint32Array(tapes);
    let total = 0;
    let timingTotal = 0;
    for (let tape = 0; tape < tapes; tape++) {
      byteStarts[tape] = total;
      total += /** @type {number} */ (byteLengths[tape]);
      timingStarts[tape] = timingTotal;
      timingTotal += /** @type {number} */ (chunkCounts[tape]) * 2;
    }
    if (scratch.length < total) scratch = new Uint8Array(total * 2);
    // A one-off huge tick (a tape's chunk may be up to maxTapeBytes) would otherwise stay held
    // for the worker's life.
    const keep = scratch.length <= SCRATCH_KEPT_BYTES;
    const timings = new Float64Array(timingTotal);
    const bytePlaces = byteStarts.slice();
    const timingPlaces = timingStarts.slice();
    let arena = -1;
    let view = new Uint8Array(0);
    let arenaLength = 0;
    let arenaAt = 0;
    for (let at = 0; at < chunks.length; at += 3) {
      const tape = /** @type {number} */ (chunks[at]);
      let length = /** @type {number} */ (chunks[at + 2]);
      timings[timingPlaces[tape]++] = /** @type {number} */ (chunks[at + 1]);
      timings[timingPlaces[tape]++] = length;
      while (length > 0) {
        while (arenaAt === arenaLength) {
          arena += 1;
          if (arena >= arenas.length) {
            throw coreError(
              'INVALID_ARGUMENT',
              'appendTick: the chunks hold more bytes than the arenas',
            );
          }
          view = new Uint8Array(/** @type {ArrayBuffer} */ (arenas[arena]));
          arenaLength = /** @type {number} */ (arenaLengths[arena]);
          arenaAt = 0;
        }
        const take = Math.min(length, arenaLength - arenaAt);
        scratch.set(view.subarray(arenaAt, arenaAt + take), bytePlaces[tape]);
        bytePlaces[tape] += take;
        arenaAt += take;
        length -= take;
      }
    }
    const results = spanIds.map((spanId, tape) => {
      const start = /** @type {number} */ (byteStarts[tape]);
      const timingStart = /** @type {number} */ (timingStarts[tape]);
      const segment = {
        bytes: scratch.subarray(start, start + /** @type {number} */ (byteLengths[tape])),
        timings: timings.subarray(
          timingStart,
          timingStart + /** @type {number} */ (chunkCounts[tape]) * 2,
        ),
      };
      const result = attempt({ op: 'append', args: [spanId, { segment, frame: true }] });
      if (!result.ok) {
        // The recorder writes no more to a tape whose append failed (its rows rolled back while
        // the framing went on): let go of what the framing held.
        const tape = /** @type {{id: number} | undefined} */ (statements.tapeForAppend.get(spanId));
        if (tape) forgetFraming(tape.id);
      }
      return result;
    });
    if (!keep) scratch = new Uint8Array(0);
    return { results, arenas };
  }

  /**
   * Runs one operation by name.
   * @param {{op: string; args: any[]}} operation
   */
  function run({ op, args }) {
    switch (op) {
      case 'put':
        return put(args[0]);
      case 'append':
        return append(args[0], args[1]);
      case 'appendTick':
        return appendTick(args[0]);
      case 'finish':
        return finish(args[0], args[1]);
      case 'learn':
        return learn(args[0], args[1]);
      case 'get':
        return get(args[0]);
      case 'list':
        return list(args[0]);
      case 'delete':
        return remove(args[0]);
      case 'prune':
        return prune(args[0]);
      case 'stats':
        return stats();
      default:
        throw coreError('INVALID_ARGUMENT', `unknown store operation ${op}`);
    }
  }

  return {
    put,
    append,
    finish,
    learn,
    get,
    list,
    delete: remove,
    prune,
    stats,
    /**
     * Runs one read operation (get, list, stats) in a read transaction.
     * @param {{op: string; args: any[]}} operation
     */
    read(operation) {
      return run(operation);
    },
    /**
     * Runs a batch of operations in one write transaction (each in its own savepoint, so one
     * failing operation does not undo the others) and returns one result per operation.
     * @param {Array<{op: string; args: any[]}>} operations
     */
    runBatch(operations) {
      return transaction.immediate(operations);
    },
    close() {
      db.close();
    },
  };
}

/**
 * A structured-clone-safe description of an error.
 * @param {unknown} error
 * @returns {{message: string; code?: string; sqliteCode?: string; context?: Record<string, unknown>}}
 */
export function serializeError(error) {
  const value = /** @type {any} */ (error);
  /** @type {{message: string; code?: string; sqliteCode?: string; context?: Record<string, unknown>}} */
  const result = { message: String(value?.message ?? value) };
  if (typeof value?.code === 'string') {
    if (value.code.startsWith('SQLITE_')) result.sqliteCode = value.code;
    else result.code = value.code;
  }
  if (value?.context && typeof value.context === 'object') result.context = value.context;
  return result;
}

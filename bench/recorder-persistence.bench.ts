// Sustained persistence into SQLite: 100 tapes x 10,000 events (1,000,000 events, ~190 MB of raw
// SSE), appended 500 events at a time with their bytes, all awaited. Three ways, in one run:
// - anchor: better-sqlite3 on the calling thread, one row per event (raw bytes + parsed fields),
//   one transaction per batch, the classic layout;
// - tapedeck `store.append` (the public TapeStore API, events carry their data);
// - tapedeck as the recorder writes: bytes only, every tape's batch in one tick, through the
//   recorder's own `Tick` (copied end to end into pooled arenas, which travel to the writer
//   thread and come back); the writer thread
//   finds the events itself and reads their data back from the raw bytes when a tape is read.
// Run: npx -y pnpm@10.34.9 --filter @tapedeck/recorder... build && node bench/run.mjs recorder-persistence

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../packages/recorder/dist/index.js';
import { APPEND_TICK, type AppendTick } from '../packages/recorder/dist/internal.js';
import { Tick, type TickTape } from '../packages/recorder/dist/tick-batch.js';
import type { TapeEvent } from '../packages/types/dist/index.js';

const Database = createRequire(import.meta.url)(
  '../packages/recorder/node_modules/better-sqlite3',
) as typeof import('../packages/recorder/node_modules/@types/better-sqlite3/index.js');

const TAPES = 100;
const EVENTS_PER_TAPE = 10_000;
const BATCH = 500;
const encoder = new TextEncoder();

// One batch of events and their bytes; every tape appends the same batches.
const batches: Array<{ bytes: Uint8Array; events: TapeEvent[] }> = [];
let offset = 0;
for (let start = 0; start < EVENTS_PER_TAPE; start += BATCH) {
  const parts: string[] = [];
  const events: TapeEvent[] = [];
  let batchOffset = 0;
  for (let index = start; index < start + BATCH; index++) {
    const data = `{"type":"response.output_text.delta","sequence_number":${index},"item_id":"msg_1","output_index":0,"content_index":0,"delta":"token ${index} xxxxxxxxxxxxxxxxxxxx","logprobs":[]}`;
    const text = `event: response.output_text.delta\ndata: ${data}\n\n`;
    const length = encoder.encode(text).byteLength;
    events.push({
      index,
      offsetMs: index * 0.5,
      byteStart: offset + batchOffset,
      byteEnd: offset + batchOffset + length,
      type: 'response.output_text.delta',
      id: '',
      data,
    });
    batchOffset += length;
    parts.push(text);
  }
  const bytes = encoder.encode(parts.join(''));
  offset += bytes.byteLength;
  batches.push({ bytes, events });
}
const totalEvents = TAPES * EVENTS_PER_TAPE;
const totalBytes = TAPES * offset;

const head = (spanId: string) => ({
  schemaVersion: 1 as const,
  spanId,
  traceId: randomBytes(16).toString('hex'),
  family: 'openresponses' as const,
  request: { method: 'POST', url: 'https://example.test/v1/responses', headers: {}, body: '{}' },
  requestHash: 'h',
  response: { status: 200, statusText: 'OK', headers: { 'content-type': 'text/event-stream' } },
  startedAt: Date.now(),
});

const directory = mkdtempSync(join(tmpdir(), 'tapedeck-persist-'));

async function anchor() {
  const db = new Database(join(directory, 'anchor.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE tapes (id INTEGER PRIMARY KEY, span_id TEXT UNIQUE);
    CREATE TABLE chunks (tape_id INTEGER, seq INTEGER, bytes BLOB, PRIMARY KEY (tape_id, seq));
    CREATE TABLE events (tape_id INTEGER, idx INTEGER, offset_ms REAL, byte_start INTEGER,
      byte_end INTEGER, type TEXT, event_id TEXT, data TEXT, PRIMARY KEY (tape_id, idx)) WITHOUT ROWID;`);
  const insertTape = db.prepare('INSERT INTO tapes (span_id) VALUES (?)');
  const insertChunk = db.prepare('INSERT INTO chunks VALUES (?, ?, ?)');
  const insertEvent = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const append = db.transaction((tapeId: number, seq: number, batch: (typeof batches)[number]) => {
    insertChunk.run(tapeId, seq, batch.bytes);
    for (const event of batch.events) {
      insertEvent.run(
        tapeId,
        event.index,
        event.offsetMs,
        event.byteStart,
        event.byteEnd,
        event.type,
        event.id,
        event.data,
      );
    }
  });
  const started = performance.now();
  const ids = Array.from({ length: TAPES }, (_, tape) =>
    Number(insertTape.run(`t${tape}`).lastInsertRowid),
  );
  for (const [seq, batch] of batches.entries()) {
    for (const id of ids) append(id, seq, batch);
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return seconds;
}

async function tapedeck(packed: boolean) {
  const store = createSqliteStore({
    path: join(directory, packed ? 'packed.sqlite' : 'public.sqlite'),
  });
  const appendTick = (store as unknown as Record<symbol, AppendTick>)[APPEND_TICK]!;
  const started = performance.now();
  const spanIds = Array.from({ length: TAPES }, () => randomBytes(8).toString('hex'));
  await Promise.all(spanIds.map((spanId) => store.put(head(spanId))));
  const tick = new Tick({
    appendTick: appendTick.bind(store),
    written: () => {},
    onError: (error) => {
      throw error;
    },
    // The recorder's default budget; each batch below is submitted on its own anyway.
    maxBufferedBytes: 64 * 1024 * 1024,
  });
  tick.open();
  const tapes: TickTape[] = spanIds.map((spanId) => ({
    spanId,
    tickGeneration: -1,
    tickIndex: 0,
    beforeTick: () => {},
    rawWritten: (result) => {
      if (result instanceof Error) throw result;
    },
  }));
  for (const batch of batches) {
    if (!packed) {
      await Promise.all(
        spanIds.map((spanId) =>
          store.append(spanId, {
            chunks: [{ offsetMs: 1, bytes: batch.bytes }],
            events: batch.events,
          }),
        ),
      );
      continue;
    }
    // What the recorder hands over: every tape's bytes of the tick, through its own Tick.
    for (const tape of tapes) tick.add(tape, batch.bytes, batch.bytes.byteLength, 1);
    await tick.submit();
  }
  const seconds = (performance.now() - started) / 1000;
  const stats = await store.stats();
  if (stats.events !== totalEvents || stats.bytes !== totalBytes) {
    throw new Error(
      `stored ${stats.events} events / ${stats.bytes} bytes, expected ${totalEvents} / ${totalBytes}`,
    );
  }
  // Spot-check that what was written reads back exactly.
  const tape = await store.get(spanIds[7]!);
  if (tape?.events[1234]?.data !== batches[2]!.events[234]!.data)
    throw new Error('event data did not round-trip');
  await store.close();
  return seconds;
}

const results: Array<[string, number]> = [];
results.push(['anchor: better-sqlite3, row per event', await anchor()]);
results.push(['tapedeck store.append (public API)', await tapedeck(false)]);
results.push(['tapedeck as the recorder writes', await tapedeck(true)]);
rmSync(directory, { recursive: true, force: true });

const anchorSeconds = results[0]![1];
console.log(
  `${totalEvents.toLocaleString('en')} events, ${(totalBytes / 1024 / 1024).toFixed(0)} MB raw, ${TAPES} tapes, batches of ${BATCH} (Node ${process.version})`,
);
console.log('| writer | seconds | events/s | MB/s | vs anchor |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name, seconds] of results) {
  console.log(
    `| ${name} | ${seconds.toFixed(2)} | ${Math.round(totalEvents / seconds).toLocaleString('en')} | ${(totalBytes / 1024 / 1024 / seconds).toFixed(1)} | ${(anchorSeconds / seconds).toFixed(2)}x |`,
  );
}

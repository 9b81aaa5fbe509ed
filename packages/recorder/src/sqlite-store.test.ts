import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TapedeckError } from '@tapedeck/types';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { appendFramed } from '../test/append-framed.js';
import { createTapeCore, SQLITE_SCHEMA_VERSION } from './sqlite-core.mjs';
import { createSqliteStore } from './sqlite-store.js';
import { createTestTapeHead, describeTapeStore } from './testing.js';

const directory = mkdtempSync(join(tmpdir(), 'tapedeck-store-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let count = 0;

describeTapeStore(
  () => createSqliteStore({ path: join(directory, `contract-${count++}.sqlite`) }),
  {
    name: 'createSqliteStore',
  },
);

describe('createSqliteStore on disk', () => {
  it('creates the file with mode 0600 in WAL mode with the indexed schema', async () => {
    const path = join(directory, 'mode.sqlite');
    const store = createSqliteStore({ path });
    await store.put(createTestTapeHead());
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tapes'")
      .all()
      .map((row) => (row as { name: string }).name);
    for (const column of [
      'upstream_span_id',
      'response_id',
      'request_hash',
      'family',
      'outcome',
      'started_at',
    ]) {
      expect(indexes).toContain(`tapes_${column}`);
    }
    db.close();
  });

  it('refuses a database newer than the code with SCHEMA_VERSION_MISMATCH', () => {
    const path = join(directory, 'newer.sqlite');
    const db = new Database(path);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    let error: unknown;
    try {
      createSqliteStore({ path });
    } catch (cause) {
      error = cause;
    }
    expect(TapedeckError.hasCode(error, 'SCHEMA_VERSION_MISMATCH')).toBe(true);
    expect(String((error as Error).message)).toContain(path);
  });

  it('on open, marks tapes left recording by a dead process incomplete and keeps their bytes', async () => {
    const path = join(directory, 'orphan.sqlite');
    const store = createSqliteStore({ path });
    const orphan = createTestTapeHead();
    const live = createTestTapeHead();
    await store.put(orphan);
    await store.put(live);
    const bytes = new TextEncoder().encode('data: kept\n\n');
    await store.append(orphan.spanId, {
      chunks: [{ offsetMs: 1, bytes }],
      events: [
        { index: 0, offsetMs: 1, byteStart: 0, byteEnd: 12, type: 'message', id: '', data: 'kept' },
      ],
    });
    await store.close();
    // Pretend a process that has since exited wrote the orphan.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const db = new Database(path);
    db.prepare('UPDATE tapes SET writer = ? WHERE span_id = ?').run(
      `${hostname()}:${deadPid}`,
      orphan.spanId,
    );
    db.close();

    const reopened = createSqliteStore({ path });
    const tape = await reopened.get(orphan.spanId);
    expect(tape?.outcome).toBe('incomplete');
    expect(tape?.error).toMatch(/ended before the stream finished/);
    expect(tape?.raw).toEqual(bytes);
    expect(tape?.events.map((event) => event.data)).toEqual(['kept']);
    // This process is alive, so its tape is still being recorded.
    expect((await reopened.get(live.spanId))?.outcome).toBe('recording');
    await reopened.close();
  });

  it('rejects writes after close with STORE_FAILURE', async () => {
    const store = createSqliteStore({ path: join(directory, 'closed.sqlite') });
    await store.close();
    const error = await store.put(createTestTapeHead()).catch((cause: unknown) => cause);
    expect(TapedeckError.hasCode(error, 'STORE_FAILURE')).toBe(true);
  });
});

describe('createSqliteStore framing bytes on its writer thread', () => {
  it("hands back a young tape's first events whole: across appends, at most 16, within its first MiB", async () => {
    const encoder = new TextEncoder();
    const store = createSqliteStore({ path: join(directory, 'leading.sqlite') });
    const append = (spanId: string, text: string | Uint8Array) =>
      appendFramed(store, spanId, [
        { offsetMs: 1, bytes: typeof text === 'string' ? encoder.encode(text) : text },
      ]);
    // An event cut in two by the appends (and a BOM before the first), then more than 16.
    const young = createTestTapeHead();
    await store.put(young);
    expect(
      await append(young.spanId, '\uFEFFdata: {"span_id":"s-1"}\n\nevent: ping\ndata: o'),
    ).toEqual({
      events: 1,
      dropped: 0,
      leading: [{ type: 'message', data: '{"span_id":"s-1"}' }],
      leadingDone: false,
    });
    const rest = Array.from({ length: 20 }, (_, index) => `data: ${index}\n\n`).join('');
    expect(await append(young.spanId, `ne\ndata: two\n\n${rest}`)).toEqual({
      events: 21,
      dropped: 0,
      leading: [
        { type: 'ping', data: 'one\ntwo' },
        ...Array.from({ length: 14 }, (_, index) => ({ type: 'message', data: String(index) })),
      ],
      leadingDone: true,
    });
    // Said once: later answers carry nothing about leading events.
    expect(await append(young.spanId, 'data: late\n\n')).toEqual({ events: 1, dropped: 0 });
    // An event that ends past the tape's first MiB is not handed back, nor anything after it.
    const long = createTestTapeHead();
    await store.put(long);
    const big = encoder.encode(`data: ${'x'.repeat(1024 * 1024)}\n\ndata: after\n\n`);
    expect(await append(long.spanId, big)).toEqual({ events: 2, dropped: 0, leadingDone: true });
    await store.close();
  });

  it('finds every event, also when a reopened store continues a tape mid-event', async () => {
    const path = join(directory, 'raw.sqlite');
    const text =
      'data: {"span_id":"s-1"}\n\nevent: ping\nid: 4\ndata: one\ndata: two\n\n: note\r\ndata: three\r\n\r\n';
    const bytes = new TextEncoder().encode(text);
    const head = createTestTapeHead();
    const first = createSqliteStore({ path });
    await first.put(head);
    // Cut inside the second event, then hand the rest to a new store on the same file.
    expect(
      await appendFramed(first, head.spanId, [{ offsetMs: 1, bytes: bytes.subarray(0, 40) }]),
    ).toEqual({
      events: 1,
      dropped: 0,
      // A young tape's first events come back, to learn its keys from.
      leading: [{ type: 'message', data: '{"span_id":"s-1"}' }],
      leadingDone: false,
    });
    await first.close();
    // A reopened store hands back no leading events of a tape it did not see begin.
    const second = createSqliteStore({ path });
    expect(
      await appendFramed(second, head.spanId, [
        { offsetMs: 2, bytes: bytes.subarray(40, 70) },
        { offsetMs: 3, bytes: bytes.subarray(70) },
      ]),
    ).toEqual({ events: 2, dropped: 0, leadingDone: true });
    await second.finish(head.spanId, { outcome: 'complete', durationMs: 4 });
    const tape = await second.get(head.spanId);
    await second.close();
    expect(
      tape?.events.map(({ index, type, id, data, byteStart, byteEnd }) => ({
        index,
        type,
        id,
        data,
        byteStart,
        byteEnd,
      })),
    ).toEqual([
      { index: 0, type: 'message', id: '', data: '{"span_id":"s-1"}', byteStart: 0, byteEnd: 25 },
      { index: 1, type: 'ping', id: '4', data: 'one\ntwo', byteStart: 25, byteEnd: 64 },
      {
        index: 2,
        type: 'message',
        id: '4',
        data: 'three',
        byteStart: 64,
        byteEnd: bytes.byteLength,
      },
    ]);
    expect(tape?.events.map((event) => event.offsetMs)).toEqual([1, 2, 3]);
    expect(tape?.eventCount).toBe(3);
  });
});

describe('createSqliteStore on a database of schema version 1', () => {
  // Version 1 stored every event batch in the first encoding; version 2 added the compact one
  // for framed events. A version 1 file is made here by writing batches the first way (events
  // with their data) and taking the version 2 column away again.
  async function versionOneDatabase(path: string) {
    const store = createSqliteStore({ path });
    const head = createTestTapeHead();
    await store.put(head);
    const bytes = new TextEncoder().encode('event: a\ndata: 1\n\nid: 7\ndata: 2\n\n');
    await store.append(head.spanId, {
      chunks: [{ offsetMs: 5, bytes }],
      events: [
        { index: 0, offsetMs: 5, byteStart: 0, byteEnd: 18, type: 'a', id: '', data: '1' },
        { index: 1, offsetMs: 5, byteStart: 18, byteEnd: 33, type: 'message', id: '7', data: '2' },
      ],
    });
    await store.finish(head.spanId, { outcome: 'complete', durationMs: 6 });
    const before = await store.get(head.spanId);
    await store.close();
    const db = new Database(path);
    expect(db.prepare('SELECT DISTINCT encoding FROM event_batches').pluck().all()).toEqual([1]);
    db.exec('ALTER TABLE event_batches DROP COLUMN encoding');
    db.pragma('user_version = 1');
    db.close();
    return { head, before };
  }

  it('migrates it: old tapes read as before, new events take the compact encoding', async () => {
    const path = join(directory, 'version-1.sqlite');
    const { head, before } = await versionOneDatabase(path);
    const store = createSqliteStore({ path });
    expect(await store.get(head.spanId)).toEqual(before);
    const next = createTestTapeHead();
    await store.put(next);
    await appendFramed(store, next.spanId, [
      { offsetMs: 1, bytes: new TextEncoder().encode('retry: 9\ndata: x\n\n') },
    ]);
    const tape = await store.get(next.spanId);
    await store.close();
    expect(tape?.events).toEqual([
      {
        index: 0,
        offsetMs: 1,
        byteStart: 0,
        byteEnd: 18,
        type: 'message',
        id: '',
        data: 'x',
        retry: 9,
      },
    ]);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    expect(db.prepare('SELECT encoding FROM event_batches ORDER BY rowid').pluck().all()).toEqual([
      1, 2,
    ]);
    db.close();
  });

  it('reads it where it cannot migrate it, also once another process has migrated it', async () => {
    const path = join(directory, 'version-1-readonly.sqlite');
    const { head, before } = await versionOneDatabase(path);
    // A read-only connection, as a process without write access opens the file (root, which
    // runs these tests, could write to any file mode).
    const reader = createTapeCore(new Database(path, { readonly: true }));
    expect(reader.get(head.spanId)).toEqual(before);
    // Meanwhile a writer migrates the file and records a tape in the compact encoding.
    const writer = createSqliteStore({ path });
    const next = createTestTapeHead();
    await writer.put(next);
    await appendFramed(writer, next.spanId, [
      { offsetMs: 1, bytes: new TextEncoder().encode('event: b\ndata: y\n\n') },
    ]);
    await writer.close();
    expect(reader.get(head.spanId)).toEqual(before);
    expect(reader.get(next.spanId)?.events.map(({ type, data }) => ({ type, data }))).toEqual([
      { type: 'b', data: 'y' },
    ]);
    reader.close();
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TapedeckError } from '@tapedeck/types';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION } from './sqlite-core.mjs';
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

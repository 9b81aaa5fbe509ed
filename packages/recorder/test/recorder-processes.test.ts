import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSqliteStore } from '../src/index.js';
import { expectSameBytes, startUpstream } from './upstream.js';

const opperBytes = new Uint8Array(readFileSync('/work/shared/formats/samples/opper-text.sse'));
const opperEvents = Buffer.from(opperBytes)
  .toString('utf8')
  .split(/(?<=\n\n)/)
  .map((event) => new TextEncoder().encode(event));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const script = fileURLToPath(new URL('./child-recorder.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('../../../tsconfig.base.json', import.meta.url));

interface ChildMessage {
  type: 'chunk' | 'done';
  bytes?: number;
  results?: Array<{ bytes: number; sha256: string }>;
  errors?: Array<{ code: string; message: string }>;
}

/** Starts the recording child; `messages` collects its JSON lines. */
function startChild(options: Record<string, unknown>, { uid }: { uid?: number } = {}) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', script, JSON.stringify(options)],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      // Resolve @tapedeck/* to sources, as vitest does, instead of built dist/.
      env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(uid === undefined ? {} : { uid, gid: uid }),
    },
  );
  const messages: ChildMessage[] = [];
  let stderr = '';
  child.stderr?.on('data', (part) => {
    stderr += String(part);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    messages.push(JSON.parse(line) as ChildMessage);
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal, stderr }));
  return { child, messages, exited };
}

describe('recording from other processes', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let directory: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tapedeck-processes-'));
    chmodSync(directory, 0o755);
    upstream = await startUpstream(({ url }) =>
      url.includes('hang')
        ? { chunks: opperEvents.slice(0, 3), ending: 'hang' }
        : { chunks: opperEvents, delayMs: 2 },
    );
  });
  afterAll(async () => {
    await upstream.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('a process SIGKILLed mid-stream leaves an incomplete tape with every flushed event', async () => {
    const path = join(directory, 'killed.sqlite');
    const { child, messages, exited } = startChild({
      path,
      url: `${upstream.url}/v2/call/stream?hang`,
      flushIntervalMs: 20,
    });
    const threeEvents = opperEvents.slice(0, 3).reduce((sum, event) => sum + event.byteLength, 0);
    // The child has consumed three events...
    await vi.waitFor(() => expect(messages.at(-1)?.bytes).toBe(threeEvents), {
      timeout: 15_000,
      interval: 20,
    });
    // ...and within a flush interval they are on disk, while the stream is still open, with the
    // key their first event named (recorded once the writer thread has framed it).
    await vi.waitFor(
      () => {
        const db = new Database(path, { readonly: true });
        try {
          const row = db
            .prepare('SELECT event_count, outcome, upstream_span_id FROM tapes')
            .get() as
            | { event_count: number; outcome: string; upstream_span_id: string | null }
            | undefined;
          expect(row).toEqual({
            event_count: 3,
            outcome: 'recording',
            upstream_span_id: '3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f',
          });
        } finally {
          db.close();
        }
      },
      { timeout: 5_000, interval: 10 },
    );
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');

    const store = createSqliteStore({ path });
    const [summary] = (await store.list()).tapes;
    const tape = await store.get(summary!.spanId);
    await store.close();
    expect(tape?.outcome).toBe('incomplete');
    expect(tape?.events.map((event) => event.index)).toEqual([0, 1, 2]);
    expectSameBytes(tape!.raw, new Uint8Array(Buffer.concat(opperEvents.slice(0, 3))));
    expect(tape?.upstreamSpanId).toBe('3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f');
  });

  it('4 processes x 50 concurrent streams into one file: every tape complete, none lost, no SQLITE_BUSY', async () => {
    const path = join(directory, 'shared.sqlite');
    createSqliteStore({ path }).close();
    const children = Array.from({ length: 4 }, () =>
      startChild({ path, url: `${upstream.url}/v2/call/stream`, streams: 50 }),
    );
    const exits = await Promise.all(children.map((child) => child.exited));
    for (const exit of exits) expect(exit).toMatchObject({ code: 0 });
    for (const { messages } of children) {
      const done = messages.find((message) => message.type === 'done');
      expect(done?.errors).toEqual([]);
      expect(done?.results).toHaveLength(50);
      for (const result of done!.results!) expect(result.sha256).toBe(sha256(opperBytes));
    }
    const store = createSqliteStore({ path });
    const { tapes } = await store.list({ limit: 1000 });
    expect(tapes).toHaveLength(200);
    expect(new Set(tapes.map((tape) => tape.spanId)).size).toBe(200);
    expect(tapes.every((tape) => tape.outcome === 'complete' && tape.eventCount === 8)).toBe(true);
    expect(tapes.every((tape) => tape.byteLength === opperBytes.byteLength)).toBe(true);
    const sampleTape = await store.get(tapes[123]!.spanId);
    expectSameBytes(sampleTape!.raw, opperBytes);
    await store.close();
  }, 60_000);

  it('a read-only database file: the consumer still gets every byte and onError hears of it', async () => {
    // root ignores file modes, so run the recording process as an unprivileged user then, in a
    // directory it owns (as a user's own project directory would be).
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const own = join(directory, 'readonly');
    mkdirSync(own);
    const path = join(own, 'tapes.sqlite');
    await createSqliteStore({ path }).close();
    if (uid !== undefined) {
      chownSync(own, uid, uid);
      chownSync(path, uid, uid);
    }
    chmodSync(path, 0o444);
    const { messages, exited } = startChild(
      { path, url: `${upstream.url}/v2/call/stream?readonly` },
      { uid },
    );
    const exit = await exited;
    expect(exit.code, exit.stderr).toBe(0);
    const done = messages.find((message) => message.type === 'done');
    expect(done?.results).toEqual([{ bytes: opperBytes.byteLength, sha256: sha256(opperBytes) }]);
    expect(done?.errors?.length).toBeGreaterThan(0);
    expect(done?.errors?.[0]?.code).toBe('STORE_FAILURE');
    expect(done?.errors?.[0]?.message).toMatch(/readonly|read-only/i);
  }, 30_000);
});

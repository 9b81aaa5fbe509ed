import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/index.js';
import { APPEND_TICK, type AppendTick } from '../src/internal.js';
import { appendFramed } from './append-framed.js';

const directory = mkdtempSync(join(tmpdir(), 'tapedeck-raw-append-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const head = (spanId: string) => ({
  schemaVersion: 1 as const,
  spanId,
  traceId: '0af7651916cd43dd8448eb211c80319c',
  family: 'sse' as const,
  request: { method: 'POST', url: 'http://127.0.0.1/stream', headers: {}, body: null },
  requestHash: 'h',
  response: { status: 200, statusText: 'OK', headers: {} },
  startedAt: 1,
});

describe('the SQLite store framing raw segments on its writer thread', () => {
  it('indexes a single chunk of 131,072 events', async () => {
    const store = createSqliteStore({ path: join(directory, 'many.sqlite') });
    const count = 131_072;
    const bytes = new TextEncoder().encode('data:x\n\n'.repeat(count));
    await store.put(head('00f067aa0ba902b7'));
    const written = await appendFramed(store, '00f067aa0ba902b7', [{ offsetMs: 5, bytes }]);
    // Only the first 16 events come back for the recorder to learn the tape's keys from.
    expect(written).toEqual({
      events: count,
      dropped: 0,
      leading: Array.from({ length: 16 }, () => ({ type: 'message', data: 'x' })),
      leadingDone: true,
    });
    await store.finish('00f067aa0ba902b7', { outcome: 'complete', durationMs: 9 });
    const tape = await store.get('00f067aa0ba902b7');
    expect(tape?.eventCount).toBe(count);
    expect(tape?.events.at(-1)).toMatchObject({
      index: count - 1,
      data: 'x',
      byteStart: bytes.byteLength - 8,
      byteEnd: bytes.byteLength,
    });
    await store.close();
  });

  it('appends a tick of many tapes like one call per tape, and one failing append leaves the others written', async () => {
    const store = createSqliteStore({ path: join(directory, 'batch.sqlite') });
    const appendTick = (store as unknown as { [APPEND_TICK]: AppendTick })[APPEND_TICK];
    const encoder = new TextEncoder();
    const pieces = ['event: a\ndata: 1\n\ndata: tw', 'o\r\n\r\n: c\ndata: 3\r\r', 'data: 4\n\n'];
    const one = ['3333333333333333', '4444444444444444'];
    const many = ['5555555555555555', '6666666666666666'];
    for (const id of [...one, ...many]) await store.put(head(id));
    for (const [round, piece] of pieces.entries()) {
      const bytes = encoder.encode(piece);
      const half = Math.floor(bytes.byteLength / 2);
      for (const id of one) {
        await appendFramed(store, id, [
          { offsetMs: round, bytes: bytes.subarray(0, half) },
          { offsetMs: round + 1, bytes: bytes.subarray(half) },
        ]);
      }
      // The same two chunks per tape, interleaved with the other tapes' (the middle tape does
      // not exist); all of them end to end across three arenas, cut where no chunk ends, each
      // followed by bytes past its used length.
      const parts = [bytes.subarray(0, half), bytes.subarray(half)];
      const laid = new Uint8Array(bytes.byteLength * 3);
      const chunks: number[] = [];
      let at = 0;
      for (const [index, part] of parts.entries()) {
        for (const tape of [0, 1, 2]) {
          laid.set(part, at);
          at += part.byteLength;
          chunks.push(tape, round + index, part.byteLength);
        }
      }
      const cuts = [0, half + 1, 2 * bytes.byteLength + 1, laid.byteLength];
      const arenas = cuts.slice(1).map((end, index) => {
        const arena = new Uint8Array(end - cuts[index]! + 8).fill(0x78);
        arena.set(laid.subarray(cuts[index]!, end));
        return arena.buffer;
      });
      const arenaLengths = cuts.slice(1).map((end, index) => end - cuts[index]!);
      const sizes = arenas.map((arena) => arena.byteLength);
      const { results, arenas: returned } = await appendTick({
        spanIds: [many[0]!, 'ffffffffffffffff', many[1]!],
        arenas,
        arenaLengths,
        chunks: Float64Array.from(chunks),
      });
      expect(results[0]).toEqual(results[2]);
      expect(results[0]).not.toBeInstanceOf(Error);
      expect(results[1]).toBeInstanceOf(Error);
      expect((results[1] as Error).message).toContain('ffffffffffffffff');
      // The arenas went to the writer thread and came back.
      expect(arenas.map((arena) => arena.byteLength)).toEqual([0, 0, 0]);
      expect(returned.map((arena) => arena.byteLength)).toEqual(sizes);
    }
    for (const id of [...one, ...many])
      await store.finish(id, { outcome: 'complete', durationMs: 3 });
    const [byOne, ...rest] = await Promise.all([...one, ...many].map((id) => store.get(id)));
    expect(byOne?.events.map((event) => event.data)).toEqual(['1', 'two', '3', '4']);
    for (const tape of rest) {
      expect(tape?.events).toEqual(byOne?.events);
      expect(tape?.chunks).toEqual(byOne?.chunks);
      expect(Buffer.from(tape!.raw).toString()).toBe(pieces.join(''));
    }
    await store.close();
  });
});

import type { TapeStore } from '@tapedeck/types';
import { APPEND_TICK, type AppendTick, type TickResult } from '../src/internal.js';

/**
 * Appends `chunks` to one tape of the SQLite store the way the recorder does (a tick of one tape,
 * its bytes in one arena), so the store's writer thread frames the events itself. Resolves with
 * what the store found, or rejects with the error that append failed with.
 */
export async function appendFramed(
  store: TapeStore,
  spanId: string,
  chunks: Array<{ offsetMs: number; bytes: Uint8Array }>,
): Promise<TickResult> {
  const appendTick = (store as TapeStore & { [APPEND_TICK]?: AppendTick })[APPEND_TICK];
  if (!appendTick) throw new Error('appendFramed: this store does not take ticks');
  const arena = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.bytes.byteLength, 0));
  const rows: number[] = [];
  let at = 0;
  for (const { offsetMs, bytes } of chunks) {
    arena.set(bytes, at);
    at += bytes.byteLength;
    rows.push(0, offsetMs, bytes.byteLength);
  }
  const {
    results: [result],
  } = await appendTick({
    spanIds: [spanId],
    arenas: [arena.buffer],
    arenaLengths: [arena.byteLength],
    chunks: Float64Array.from(rows),
  });
  if (!result || result instanceof Error) throw result ?? new Error('no result');
  return result;
}

import type { Tape } from '@tapedeck/types';
import { type CliIo, writeData } from '../io.js';
import { findTape, withStore } from '../store.js';

/** How `play` paces the stream. */
export type PlayTiming = 'recorded' | 'instant';

/** Options of `tapedeck play`. */
export interface PlayOptions {
  db: string;
  id: string;
  timing: PlayTiming;
  /** Playback speed: 2 plays twice as fast. */
  speed: number;
  _internal?: { now?: () => number; delay?: (ms: number) => Promise<void> };
}

/** Writes a tape's raw bytes to stdout, chunk by chunk, at the recorded pace or at once. */
export async function runPlay(io: CliIo, options: PlayOptions): Promise<void> {
  const tape = await withStore({ path: options.db, create: false }, (store) =>
    findTape(store, options.id, options.db),
  );
  await playTape(io, tape, options);
}

/** Plays one tape to stdout. */
export async function playTape(
  io: CliIo,
  tape: Tape,
  { timing, speed, _internal = {} }: Pick<PlayOptions, 'timing' | 'speed' | '_internal'>,
): Promise<void> {
  const raw = Buffer.from(tape.raw.buffer, tape.raw.byteOffset, tape.raw.byteLength);
  if (timing === 'instant') {
    await writeData(io.stdout, raw);
    return;
  }
  const now = _internal.now ?? (() => performance.now());
  const delay =
    _internal.delay ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const startedAt = now();
  let start = 0;
  for (const chunk of tape.chunks) {
    // Schedule against the start, not the previous chunk, so delays do not drift.
    const waitMs = chunk.offsetMs / speed - (now() - startedAt);
    if (waitMs > 0) await delay(waitMs);
    await writeData(io.stdout, raw.subarray(start, start + chunk.byteLength));
    start += chunk.byteLength;
  }
  if (start < raw.byteLength) await writeData(io.stdout, raw.subarray(start));
}

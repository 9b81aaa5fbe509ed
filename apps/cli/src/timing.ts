import type { Tape } from '@tapedeck/types';

/** Timing of a tape's events. All values are milliseconds. */
export interface TapeTiming {
  /** Time to the first event. */
  firstEventMs?: number;
  durationMs?: number;
  gaps: { count: number; p50?: number; p95?: number; max?: number };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], fraction: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank];
}

/** TTFT, duration and the gaps between consecutive events. */
export function tapeTiming(tape: Pick<Tape, 'events' | 'firstEventMs' | 'durationMs'>): TapeTiming {
  const offsets = tape.events.map((event) => event.offsetMs);
  const gaps: number[] = [];
  for (let index = 1; index < offsets.length; index++) {
    gaps.push((offsets[index] as number) - (offsets[index - 1] as number));
  }
  gaps.sort((a, b) => a - b);
  return {
    firstEventMs: tape.firstEventMs ?? offsets[0],
    durationMs: tape.durationMs,
    gaps: {
      count: gaps.length,
      p50: percentile(gaps, 0.5),
      p95: percentile(gaps, 0.95),
      max: gaps.at(-1),
    },
  };
}

const LEVELS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * One row of block characters: each column is a slice of the stream's duration and its height
 * is how many events arrived in it. Empty columns are `·`, so pauses stand out.
 */
export function renderTimeline({
  offsetsMs,
  durationMs,
  width = 60,
}: {
  offsetsMs: number[];
  durationMs: number;
  width?: number;
}): string {
  const span = Math.max(durationMs, ...offsetsMs, 1);
  const counts = new Array<number>(width).fill(0);
  for (const offset of offsetsMs) {
    const column = Math.min(width - 1, Math.floor((offset / span) * width));
    counts[column] = (counts[column] as number) + 1;
  }
  const most = Math.max(...counts, 1);
  return counts
    .map((count) =>
      count === 0
        ? '·'
        : LEVELS[Math.min(LEVELS.length - 1, Math.ceil((count / most) * LEVELS.length) - 1)],
    )
    .join('');
}

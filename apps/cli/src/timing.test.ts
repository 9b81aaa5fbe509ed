import { describe, expect, it } from 'vitest';
import { percentile, renderTimeline, tapeTiming } from './timing.js';

const event = (offsetMs: number) => ({
  index: 0,
  offsetMs,
  byteStart: 0,
  byteEnd: 0,
  type: 'message',
  id: '',
  data: '',
});

describe('tapeTiming', () => {
  it('computes TTFT and gap percentiles from event offsets', () => {
    const timing = tapeTiming({
      events: [10, 12, 15, 16, 56].map(event),
      durationMs: 60,
    });
    expect(timing.firstEventMs).toBe(10);
    expect(timing.durationMs).toBe(60);
    // gaps: 2, 3, 1, 40
    expect(timing.gaps).toEqual({ count: 4, p50: 2, p95: 40, max: 40 });
  });

  it('prefers the recorded firstEventMs and handles no events', () => {
    expect(tapeTiming({ events: [], firstEventMs: 7 }).firstEventMs).toBe(7);
    expect(tapeTiming({ events: [] }).gaps).toEqual({
      count: 0,
      p50: undefined,
      p95: undefined,
      max: undefined,
    });
  });

  it('uses nearest-rank percentiles', () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 1)).toBe(4);
    expect(percentile([], 0.5)).toBeUndefined();
  });
});

describe('renderTimeline', () => {
  it('marks pauses with dots and bursts with tall blocks', () => {
    const line = renderTimeline({ offsetsMs: [0, 1, 2, 3, 90], durationMs: 100, width: 10 });
    expect(line).toHaveLength(10);
    expect(line[0]).toBe('█');
    expect(line.slice(1, 9)).toBe('········');
    expect(line[9]).toBe('▂');
  });
});

// Fidelity of timing: 'recorded': a 200-event Opper tape with a chunk every 3 ms, replayed through
// MSW into fetch, arrival of each chunk vs its recorded offset (relative to the first chunk).
// Anchor in the same run and event loop: bare setTimeout waits to the same absolute offsets, which
// is the best any JavaScript scheduler can do on this machine at this moment.
// Run: npx -y pnpm@10.34.9 --filter @tapedeck/replayer... build && node bench/run.mjs replayer-timing

import { createMemoryStore } from '../packages/recorder/dist/index.js';
import { createReplayHandlers } from '../packages/replayer/dist/index.js';
import { setupServer } from '../packages/replayer/node_modules/msw/lib/node/index.mjs';

const EVENTS = 200;
const GAP_MS = 3;
const RUNS = 5;
const url = 'http://bench.test/v2/call/stream';

const encoder = new TextEncoder();
const parts = Array.from(
  { length: EVENTS },
  (_, index) => `data: {"delta":"token ${index}","chunk_type":"text"}\n\n`,
);
const raw = encoder.encode(parts.join(''));
let position = 0;
const store = createMemoryStore();
await store.put({
  schemaVersion: 1,
  spanId: '00f067aa0ba902b7',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  family: 'opper',
  request: { method: 'POST', url, headers: {}, body: '{}' },
  requestHash: 'bench',
  response: { status: 200, statusText: 'OK', headers: { 'content-type': 'text/event-stream' } },
  startedAt: Date.now(),
  durationMs: EVENTS * GAP_MS,
  outcome: 'complete',
  eventCount: EVENTS,
  byteLength: raw.length,
  raw,
  chunks: parts.map((part, index) => ({ offsetMs: (index + 1) * GAP_MS, byteLength: part.length })),
  events: parts.map((part, index) => {
    const byteStart = position;
    position += part.length;
    return {
      index,
      offsetMs: (index + 1) * GAP_MS,
      byteStart,
      byteEnd: position,
      type: 'message',
      id: '',
      data: part.slice(6, -2),
    };
  }),
});
const offsets = parts.map((_, index) => index * GAP_MS);

async function replayErrors(): Promise<number[]> {
  const response = await fetch(url, { method: 'POST', body: '{}' });
  const reader = response.body!.getReader();
  const arrivals: number[] = [];
  for (;;) {
    const { done } = await reader.read();
    if (done) break;
    arrivals.push(performance.now());
  }
  return arrivals.map((arrival, index) => arrival - arrivals[0]! - offsets[index]!);
}

async function timerErrors(): Promise<number[]> {
  const start = performance.now();
  const errors: number[] = [];
  for (const offset of offsets) {
    const wait = start + offset - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    errors.push(performance.now() - start - offset);
  }
  return errors;
}

const server = setupServer(...createReplayHandlers({ store, timing: 'recorded' }));
server.listen({ onUnhandledRequest: 'error' });
const percentile = (values: number[], fraction: number) => {
  const sorted = values.map(Math.abs).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * fraction) - 1)]!;
};
const rows: Record<string, Record<string, string>> = {};
for (let run = 0; run < RUNS; run += 1) {
  const [replay, timers] = await Promise.all([replayErrors(), timerErrors()]);
  rows[`run ${run + 1}`] = {
    'replay p50 ms': percentile(replay, 0.5).toFixed(2),
    'replay p99 ms': percentile(replay, 0.99).toFixed(2),
    'replay last ms': Math.abs(replay.at(-1)!).toFixed(2),
    'bare timers p99 ms (anchor)': percentile(timers, 0.99).toFixed(2),
  };
}
server.close();
console.log(`${EVENTS} chunks ${GAP_MS} ms apart, timing 'recorded', ${RUNS} runs`);
console.table(rows);

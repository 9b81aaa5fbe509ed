// Store lookup + match per request with 10,000 tapes in a SQLite store: what the replay handler
// does before it streams (compute the request's key, find the tape group in the in-memory index,
// load the matched tape's bytes with store.get). Reading the body out of the fetch Request is
// timed on its own row: MSW clones and reads requests anyway. Anchors in the same run:
// store.get(spanId) alone (the floor: loading the tape at all), and a naive matcher that lists
// every summary and compares canonical bodies per request. A second matcher whose store answers
// get from memory shows tapedeck's own share.
// Run: npx -y pnpm@10.34.9 --filter @tapedeck/replayer... build && node bench/run.mjs replayer-match

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../packages/recorder/dist/index.js';
import { createTapeMatcher, toMatchableRequest } from '../packages/replayer/dist/index.js';
import { canonicalJson } from '../packages/types/dist/index.js';

const TAPES = 10_000;
const REQUESTS = 2_000;
const NAIVE_REQUESTS = 50;

const directory = mkdtempSync(join(tmpdir(), 'tapedeck-bench-match-'));
const store = createSqliteStore({ path: join(directory, 'tapes.sqlite') });
const encoder = new TextEncoder();
const raw = encoder.encode(
  'data: {"delta":"Hello","chunk_type":"text"}\n\ndata: {"delta":" world","chunk_type":"text"}\n\n',
);
const url = 'https://api.opper.ai/v2/call/stream';
const bodyFor = (index: number) =>
  JSON.stringify({
    name: 'bench',
    instructions: 'Answer briefly.',
    input: { question: `question number ${index}`, context: 'x'.repeat(200) },
    model: 'openai/gpt-4o-mini',
  });
const spanIdFor = (index: number) => (index + 1).toString(16).padStart(16, '0');

const putStart = performance.now();
for (let index = 0; index < TAPES; index += 1) {
  await store.put({
    schemaVersion: 1,
    spanId: spanIdFor(index),
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    family: 'opper',
    request: {
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      body: bodyFor(index),
    },
    requestHash: `hash-${index}`,
    response: { status: 200, statusText: 'OK', headers: { 'content-type': 'text/event-stream' } },
    startedAt: 1_763_700_000_000 + index,
    durationMs: 2,
    outcome: 'complete',
    eventCount: 2,
    byteLength: raw.length,
    raw,
    chunks: [{ offsetMs: 1, byteLength: raw.length }],
    events: [
      {
        index: 0,
        offsetMs: 1,
        byteStart: 0,
        byteEnd: 45,
        type: 'message',
        id: '',
        data: '{"delta":"Hello","chunk_type":"text"}',
      },
      {
        index: 1,
        offsetMs: 1,
        byteStart: 45,
        byteEnd: raw.length,
        type: 'message',
        id: '',
        data: '{"delta":" world","chunk_type":"text"}',
      },
    ],
  });
}
const putMs = performance.now() - putStart;

let seed = 7;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};
const picks = Array.from({ length: REQUESTS }, () => Math.floor(random() * TAPES));
const requestFor = (index: number) =>
  new Request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: bodyFor(index),
  });

const percentile = (values: number[], fraction: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * fraction) - 1)]!;
};

// tapedeck: the first request builds the in-memory index (timed on its own).
const matcher = createTapeMatcher({ store });
const indexStart = performance.now();
await matcher.match(await toMatchableRequest(requestFor(0)));
const indexMs = performance.now() - indexStart;

// The same matcher over a store whose get answers from memory: tapedeck's own share (key,
// index lookup) without SQLite's read.
const preloaded = await store.get(spanIdFor(0));
const memoryGetStore = { ...store, list: store.list.bind(store), get: async () => preloaded };
const keyOnlyMatcher = createTapeMatcher({ store: memoryGetStore as typeof store });
await keyOnlyMatcher.match(await toMatchableRequest(requestFor(0)));
const keyTimes: number[] = [];

const matchTimes: number[] = [];
const getTimes: number[] = [];
const readTimes: number[] = [];
for (const [position, pick] of picks.entries()) {
  // Alternate the order so neither side always runs on a warmer cache.
  const runGet = async () => {
    const start = performance.now();
    const tape = await store.get(spanIdFor(pick));
    getTimes.push(performance.now() - start);
    if (!tape) throw new Error('missing tape');
  };
  const runMatch = async () => {
    const request = requestFor(pick);
    const readStart = performance.now();
    const matchable = await toMatchableRequest(request);
    readTimes.push(performance.now() - readStart);
    const start = performance.now();
    const result = await matcher.match(matchable);
    matchTimes.push(performance.now() - start);
    if (!result.matched || result.tape.spanId !== spanIdFor(pick)) throw new Error('wrong match');
    const keyStart = performance.now();
    const keyResult = await keyOnlyMatcher.match(matchable);
    keyTimes.push(performance.now() - keyStart);
    if (!keyResult.matched) throw new Error('wrong match');
  };
  if (position % 2 === 0) {
    await runGet();
    await runMatch();
  } else {
    await runMatch();
    await runGet();
  }
}

// Naive: list every summary per request and compare canonical bodies.
const naiveTimes: number[] = [];
for (const pick of picks.slice(0, NAIVE_REQUESTS)) {
  const start = performance.now();
  const wanted = canonicalJson(JSON.parse(await requestFor(pick).text()));
  let found: string | undefined;
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit: 1000, cursor });
    for (const summary of page.tapes) {
      if (summary.request.body && canonicalJson(JSON.parse(summary.request.body)) === wanted) {
        found = summary.spanId;
      }
    }
    cursor = page.nextCursor;
  } while (cursor && !found);
  await store.get(found!);
  naiveTimes.push(performance.now() - start);
}

await store.close();
rmSync(directory, { recursive: true, force: true });

const row = (times: number[]) => ({
  'p50 ms': percentile(times, 0.5).toFixed(3),
  'p99 ms': percentile(times, 0.99).toFixed(3),
  'max ms': Math.max(...times).toFixed(3),
  requests: times.length,
});
console.log(
  `${TAPES.toLocaleString('en-US')} tapes in SQLite (import ${(putMs / 1000).toFixed(1)} s); index built on first request in ${indexMs.toFixed(0)} ms`,
);
console.table({
  'store.get(spanId) alone (anchor: floor)': row(getTimes),
  'tapedeck match (key + index + store.get)': row(matchTimes),
  '  of which key + index (get from memory)': row(keyTimes),
  'reading the fetch Request body (MSW side)': row(readTimes),
  'naive list + compare every tape': row(naiveTimes),
});
console.log(
  `tapedeck p99 ${percentile(matchTimes, 0.99).toFixed(3)} ms (target <= 2 ms); ratio to store.get p99: ${(percentile(matchTimes, 0.99) / percentile(getTimes, 0.99)).toFixed(2)}; naive p50 / tapedeck p50: ${(percentile(naiveTimes, 0.5) / percentile(matchTimes, 0.5)).toFixed(0)}x`,
);

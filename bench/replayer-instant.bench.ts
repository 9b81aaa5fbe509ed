// Instant replay of a 10,000-event OpenResponses tape through MSW into the real `openai` client
// (responses.create({stream: true})), against the anchor: a bare MSW handler streaming the same
// bytes in the same chunks. Both go through setupServer and the same client; the difference is
// tapedeck's matching, store lookup and scheduled stream.
// Run: npx -y pnpm@10.34.9 --filter @tapedeck/replayer... build && node bench/run.mjs replayer-instant

import { createMemoryStore } from '../packages/recorder/dist/index.js';
import { createReplayHandlers } from '../packages/replayer/dist/index.js';
import { HttpResponse, http } from '../packages/replayer/node_modules/msw/lib/core/index.mjs';
import { setupServer } from '../packages/replayer/node_modules/msw/lib/node/index.mjs';
import OpenAI from '../packages/replayer/node_modules/openai/index.mjs';

const EVENTS = 10_000;
const RUNS = 21;
const baseURL = 'http://bench.test/v1';
const url = `${baseURL}/responses`;
const requestBody = { model: 'gpt-4o-mini', input: 'Write a long story.', stream: true };

const encoder = new TextEncoder();
const response = {
  id: 'resp_bench',
  object: 'response',
  created_at: 1763700000,
  status: 'in_progress',
  model: 'gpt-4o-mini',
  output: [],
};
const parts: string[] = [];
const event = (type: string, data: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: parts.length, ...data })}\n\n`;
parts.push(event('response.created', { response }));
for (let index = 1; index < EVENTS - 1; index += 1) {
  parts.push(
    event('response.output_text.delta', {
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      delta: ` token${index}`,
      logprobs: [],
    }),
  );
}
parts.push(event('response.completed', { response: { ...response, status: 'completed' } }));
const raw = encoder.encode(parts.join(''));
const sizes = parts.map((part) => encoder.encode(part).length);

let position = 0;
const tape = {
  schemaVersion: 1 as const,
  spanId: '00f067aa0ba902b7',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  family: 'openresponses' as const,
  request: {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(requestBody),
  },
  requestHash: 'bench',
  response: { status: 200, statusText: 'OK', headers: { 'content-type': 'text/event-stream' } },
  startedAt: Date.now(),
  durationMs: EVENTS,
  outcome: 'complete' as const,
  eventCount: EVENTS,
  byteLength: raw.length,
  raw,
  chunks: sizes.map((byteLength, index) => ({ offsetMs: index, byteLength })),
  events: sizes.map((byteLength, index) => {
    const byteStart = position;
    position += byteLength;
    return {
      index,
      offsetMs: index,
      byteStart,
      byteEnd: position,
      type: index === 0 ? 'response.created' : 'response.output_text.delta',
      id: '',
      data: '',
    };
  }),
};

const store = createMemoryStore();
await store.put(tape);

const bareHandler = http.post(url, () => {
  let index = 0;
  let offset = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const size = sizes[index++]!;
        controller.enqueue(raw.subarray(offset, offset + size));
        offset += size;
        if (index === sizes.length) controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return new HttpResponse(stream, { headers: { 'content-type': 'text/event-stream' } });
});

async function consumeOnce(): Promise<number> {
  // openai captures globalThis.fetch when constructed, so construct it after MSW patched it.
  const client = new OpenAI({ apiKey: 'bench', baseURL, maxRetries: 0 });
  const stream = await client.responses.create(requestBody as never);
  let count = 0;
  for await (const _event of stream as unknown as AsyncIterable<unknown>) count += 1;
  return count;
}

/** Events per second of wall time and per second of this process's CPU time. */
async function measure(handlers: Parameters<typeof setupServer>): Promise<[number, number]> {
  const server = setupServer(...handlers);
  server.listen({ onUnhandledRequest: 'error' });
  try {
    const startMs = performance.now();
    const startCpu = process.cpuUsage();
    const count = await consumeOnce();
    const cpu = process.cpuUsage(startCpu);
    const elapsedMs = performance.now() - startMs;
    if (count !== EVENTS) throw new Error(`expected ${EVENTS} events, got ${count}`);
    return [(count / elapsedMs) * 1000, (count / ((cpu.user + cpu.system) / 1000)) * 1000];
  } finally {
    server.close();
  }
}

const tapedeckHandlers = () => createReplayHandlers({ store, timing: 'instant' });
// Warm both paths up before measuring.
await measure([bareHandler]);
await measure(tapedeckHandlers());

const bare: number[] = [];
const tapedeck: number[] = [];
const bareCpu: number[] = [];
const tapedeckCpu: number[] = [];
for (let run = 0; run < RUNS; run += 1) {
  // Alternate which goes first, so neither always runs on a warmer or colder heap.
  const order = run % 2 === 0 ? ['bare', 'tapedeck'] : ['tapedeck', 'bare'];
  for (const which of order) {
    globalThis.gc?.();
    if (which === 'bare') {
      const [wall, cpu] = await measure([bareHandler]);
      bare.push(wall);
      bareCpu.push(cpu);
    } else {
      const [wall, cpu] = await measure(tapedeckHandlers());
      tapedeck.push(wall);
      tapedeckCpu.push(cpu);
    }
  }
}
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const format = (value: number) => Math.round(value).toLocaleString('en-US');

console.log(
  `${EVENTS.toLocaleString('en-US')}-event tape (${raw.length.toLocaleString('en-US')} bytes), openai responses.create stream, ${RUNS} runs each, median`,
);
console.table({
  'bare MSW handler (anchor)': {
    'events/s (wall)': format(median(bare)),
    'events/CPU-s': format(median(bareCpu)),
  },
  'tapedeck createReplayHandlers': {
    'events/s (wall)': format(median(tapedeck)),
    'events/CPU-s': format(median(tapedeckCpu)),
  },
});
console.log(
  `ratio tapedeck / anchor: ${(median(tapedeck) / median(bare)).toFixed(2)} wall, ${(median(tapedeckCpu) / median(bareCpu)).toFixed(2)} CPU (target >= 0.9)`,
);

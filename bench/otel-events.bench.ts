// Per-event cost of @tapedeck/otel: an OpenResponses stream read through instrumentStream with
// the real SDK (BasicTracerProvider + BatchSpanProcessor, exporter discarding), against the
// same stream read uninstrumented (the anchor), in the same run. Reports ns/event for the three
// span-event modes. The instrumented side includes everything it adds: handing chunks on, SSE
// parsing (@tapedeck/sse), reading each event's fields, attributes, span events.
// Two workloads: one event per network chunk (token streaming), and the same bytes in 64 KiB
// chunks (a replayed or buffered stream); from the two, the per-chunk and per-event costs.
// Run: npx -y pnpm@10.34.9 --filter "@tapedeck/otel..." build && node bench/run.mjs otel-events

import { createRequire } from 'node:module';
import { instrumentStream } from '../packages/otel/dist/index.js';
import { createParser } from '../packages/sse/dist/index.js';
import { DirectStream } from './direct-stream.js';

const require = createRequire(new URL('../packages/otel/package.json', import.meta.url));
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');

const DELTAS = 20_000;
const encoder = new TextEncoder();

// One event per network chunk, as token-by-token streaming arrives.
function buildChunks(): Uint8Array[] {
  let sequence = 0;
  const event = (type: string, payload: Record<string, unknown>) =>
    encoder.encode(
      `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...payload })}\n\n`,
    );
  const response = { id: 'resp_bench', object: 'response', model: 'openai/gpt-4o-mini' };
  const item = { type: 'message', id: 'msg_bench', role: 'assistant', content: [] };
  const where = { item_id: item.id, output_index: 0, content_index: 0 };
  const words = ['the', ' model', ' streams', ' tokens', ' quickly', ',', ' and', ' Jaeger'];
  const chunks = [
    event('response.created', { response: { ...response, status: 'in_progress' } }),
    event('response.output_item.added', { output_index: 0, item }),
    event('response.content_part.added', { ...where, part: { type: 'output_text', text: '' } }),
  ];
  for (let index = 0; index < DELTAS; index += 1) {
    chunks.push(
      event('response.output_text.delta', {
        ...where,
        delta: words[index % words.length],
        logprobs: [],
      }),
    );
  }
  chunks.push(event('response.output_text.done', { ...where, text: '…' }));
  chunks.push(event('response.content_part.done', { ...where, part: { type: 'output_text' } }));
  chunks.push(event('response.output_item.done', { output_index: 0, item }));
  chunks.push(
    event('response.completed', {
      response: {
        ...response,
        status: 'completed',
        usage: { input_tokens: 9, output_tokens: DELTAS },
      },
    }),
  );
  return chunks;
}

const chunks = buildChunks();
const eventCount = chunks.length;
const byteCount = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);

// The second workload: the same bytes in 64 KiB network chunks, as a replayed or buffered
// stream arrives (events cut at arbitrary byte positions, as TCP delivers them).
const NETWORK_CHUNK_BYTES = 64 * 1024;
function networkChunks(): Uint8Array[] {
  const all = new Uint8Array(byteCount);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const result: Uint8Array[] = [];
  for (let start = 0; start < byteCount; start += NETWORK_CHUNK_BYTES) {
    result.push(all.slice(start, start + NETWORK_CHUNK_BYTES));
  }
  return result;
}
const bigChunks = networkChunks();

function source(from: Uint8Array[] = chunks): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (index < from.length) controller.enqueue(from[index++]!);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

async function consume(stream: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stream.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
  }
}

const exported: number[] = [];
const provider = new BasicTracerProvider({
  spanProcessors: [
    new BatchSpanProcessor({
      export(spans: unknown[], done: (result: { code: number }) => void) {
        exported.push(spans.length);
        done({ code: 0 });
      },
      shutdown: async () => {},
    }),
  ],
});

type Mode =
  | 'anchor'
  | 'then-pull-through'
  | 'direct reader'
  | 'direct reader + sse framing'
  | 'coalesce'
  | 'lifecycle'
  | 'all'
  | 'anchor, 64 KiB'
  | 'coalesce, 64 KiB'
  | 'lifecycle, 64 KiB'
  | 'all, 64 KiB';

// Floors: what handing chunks on costs before any telemetry is recorded, optionally feeding the
// SSE parser in framing mode, reused across streams (as instrumentStream pools its parsers).
// `then-pull-through` is a plain wrapper ReadableStream whose `pull` returns
// `read().then(handler)`: what instrumentStream used before, and the cheapest wrapper stream.
// `direct reader` is what it uses now: a ReadableStream subclass whose own reader reads the body
// directly, one `then` per chunk (the real one also keeps the pull path for pipes and tee).
let framingEvents = 0;
// instrumentStream keeps its latest event reachable, so that a full GC between streams does not
// take the event's object shape, and the parser's optimized code with it; so does this floor.
let latestFramingEvent: unknown;
const framingParser = createParser({
  mode: 'framing',
  onEvent(event) {
    framingEvents += 1;
    latestFramingEvent = event;
  },
});
function thenPullThrough(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const onChunk = (result: ReadableStreamReadResult<Uint8Array>) => {
    if (result.done) controller.close();
    else controller.enqueue(result.value);
  };
  return new ReadableStream<Uint8Array>(
    {
      start(streamController) {
        controller = streamController;
      },
      pull: () => reader.read().then(onChunk),
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

function directStream(body: ReadableStream<Uint8Array>, parse: boolean): DirectStream {
  framingParser.reset();
  framingEvents = 0;
  return new DirectStream(body, (result) => {
    if (result.done) {
      framingParser.end();
      if (parse && framingEvents !== eventCount) throw new Error(`parsed ${framingEvents} events`);
    } else if (parse) framingParser.feed(result.value);
    return result;
  });
}

async function once(mode: Mode): Promise<number> {
  // CPU time of this process, not wall time: the CI machine is shared, and a descheduled
  // process would otherwise be billed for other people's work.
  const start = process.cpuUsage();
  const network = mode.endsWith(', 64 KiB');
  const events = mode.replace(', 64 KiB', '') as 'anchor' | 'coalesce' | 'lifecycle' | 'all';
  const stream =
    mode === 'anchor'
      ? source()
      : mode === 'then-pull-through'
        ? thenPullThrough(source())
        : mode === 'direct reader'
          ? directStream(source(), false)
          : mode === 'direct reader + sse framing'
            ? directStream(source(), true)
            : events === 'anchor'
              ? source(bigChunks)
              : instrumentStream(source(network ? bigChunks : chunks), {
                  tracerProvider: provider,
                  events,
                  request: { url: 'https://openrouter.ai/api/v1/responses', method: 'POST' },
                });
  const bytes = await consume(stream);
  const used = process.cpuUsage(start);
  void latestFramingEvent;
  const elapsed = (used.user + used.system) * 1000;
  if (bytes !== byteCount) throw new Error(`read ${bytes} of ${byteCount} bytes`);
  return elapsed;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

// Every mode is measured against the anchor in pairs: the anchor and the mode alternate, and
// the added cost is the median of each pair's difference. Measuring the anchor and a mode
// minutes apart does not work on this shared 2-core machine: the anchor alone moves by ±0.3 µs
// per event between blocks. No forced gc(): after one, V8 throws away the optimized code of
// Node's own web-stream functions (their objects died) and the next stream pays to compile it
// again, on whichever side comes first; in a service with streams in flight that code stays.
// Each pair's garbage is collected on whichever side it happens to fall, evenly over the pairs.
// `all` runs last: its 20,000 span events per stream are garbage no other mode should meet.
const PAIRS = 61;
const pairedModes: Mode[] = [
  'then-pull-through',
  'direct reader',
  'direct reader + sse framing',
  'coalesce',
  'lifecycle',
  'coalesce, 64 KiB',
  'lifecycle, 64 KiB',
  'all',
  'all, 64 KiB',
];
const anchorOf = (mode: Mode): Mode => (mode.endsWith(', 64 KiB') ? 'anchor, 64 KiB' : 'anchor');
const pairedAdded = new Map<Mode, number[]>(pairedModes.map((mode) => [mode, []]));
const anchorSamples = new Map<Mode, number[]>([
  ['anchor', []],
  ['anchor, 64 KiB', []],
]);
for (const mode of pairedModes) {
  // Warm both sides up first.
  for (let run = 0; run < 3; run += 1) {
    await once(anchorOf(mode));
    await once(mode);
  }
  for (let pair = 0; pair < PAIRS; pair += 1) {
    const anchor = await once(anchorOf(mode));
    const instrumented = await once(mode);
    anchorSamples.get(anchorOf(mode))!.push(anchor);
    pairedAdded.get(mode)!.push((instrumented - anchor) / eventCount);
  }
}
await provider.forceFlush();
await provider.shutdown();

const quartiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (fraction: number) => sorted[Math.floor((sorted.length - 1) * fraction)]!;
  return { median: median(sorted), low: at(0.25), high: at(0.75) };
};
console.log(
  `${eventCount} events (${(byteCount / 1024 / 1024).toFixed(1)} MiB); CPU time of the process; ${PAIRS} pairs per mode, no forced gc(); Node ${process.version}`,
);
console.log('');
console.log(
  `Anchors (uninstrumented, read to the end): one event per chunk ${(median(anchorSamples.get('anchor')!) / eventCount).toFixed(0)} ns / event; ${bigChunks.length} chunks of 64 KiB ${(median(anchorSamples.get('anchor, 64 KiB')!) / eventCount).toFixed(0)} ns / event`,
);
console.log('');
console.log('| mode | chunks | median added ns / event | quartiles (25th–75th) |');
console.log('|---|---|---:|---:|');
const added = new Map<Mode, number>();
for (const mode of pairedModes) {
  const { median: middle, low, high } = quartiles(pairedAdded.get(mode)!);
  added.set(mode, middle);
  const name = mode.replace(', 64 KiB', '');
  const label =
    name === 'then-pull-through' || name.startsWith('direct reader')
      ? `floor: ${name} only`
      : `instrumented, ${name}`;
  console.log(
    `| ${label} | ${mode.endsWith(', 64 KiB') ? '64 KiB' : 'one event each'} | ${middle.toFixed(0)} | ${low.toFixed(0)}–${high.toFixed(0)} |`,
  );
}
// Added cost = per-chunk cost × chunks + per-event cost × events. With 64 KiB chunks the
// per-chunk part is spread over ~350 events, so that row is (almost) the per-event cost; the
// rest of the one-event-per-chunk row is what each chunk costs.
console.log('');
console.log('| mode | per-event cost (ns) | per-chunk cost (ns) |');
console.log('|---|---:|---:|');
const chunksPerEvent = bigChunks.length / eventCount;
for (const events of ['coalesce', 'lifecycle', 'all'] as const) {
  const perChunkAndEvent = added.get(events)!;
  const network = added.get(`${events}, 64 KiB`)!;
  const perChunk = (perChunkAndEvent - network) / (1 - chunksPerEvent);
  const perEvent = perChunkAndEvent - perChunk;
  console.log(`| ${events} | ${perEvent.toFixed(0)} | ${perChunk.toFixed(0)} |`);
}
if (exported.length === 0) throw new Error('no span reached the exporter');

// Overhead of @tapedeck/recorder on the consumer's stream, against plain fetch (the anchor), in
// one run on one local node:http server: (1) one 20 MB SSE response, (2) 100 concurrent streams
// of 2,000 events each. Throughput is bytes the consumer read per second; the recorded side
// writes every tape to a real SQLite file. Per-chunk delivery latency is measured from the moment
// the upstream body yields a chunk to the moment the consumer's read() returns it, for both sides.
// Run: npx -y pnpm@10.34.9 --filter @tapedeck/recorder... build && node bench/run.mjs recorder-overhead

import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createRecorder, createSqliteStore } from '../packages/recorder/dist/index.js';
import { DirectStream } from './direct-stream.js';

const RUNS = 30;
const encoder = new TextEncoder();

function event(index: number, padding: number) {
  return `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":${index},"item_id":"msg_1","output_index":0,"content_index":0,"delta":"tok${index}${'x'.repeat(padding)}","logprobs":[]}\n\n`;
}
// 20 MB in ~64 KiB writes.
const bigEvents = Array.from({ length: 80_000 }, (_, index) => event(index, 80)).join('');
const big = encoder.encode(bigEvents);
const bigChunks: Uint8Array[] = [];
for (let start = 0; start < big.byteLength; start += 64 * 1024) {
  bigChunks.push(big.subarray(start, start + 64 * 1024));
}
// 2,000 events, written 20 events per write (100 writes per stream).
const smallChunks = Array.from({ length: 100 }, (_, write) =>
  encoder.encode(
    Array.from({ length: 20 }, (_, offset) => event(write * 20 + offset, 20)).join(''),
  ),
);
const smallBytes = smallChunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);

const server = createServer(async (request, response) => {
  for await (const _ of request) {
  }
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  const chunks = request.url?.startsWith('/big') ? bigChunks : smallChunks;
  for (const [index, chunk] of chunks.entries()) {
    if (!response.write(chunk)) await once(response, 'drain');
    // The small streams trickle like a model: yield to the loop between writes.
    if (chunks === smallChunks && index % 10 === 9)
      await new Promise((resolve) => setImmediate(resolve));
  }
  response.end();
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// Stamps every chunk the upstream body yields, so the consumer can measure its delivery delay.
const stamps = new WeakMap<Uint8Array, number>();
const stampingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const reader = response.body!.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        stamps.set(value, performance.now());
        controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: response.status, headers: response.headers });
};

async function consume(fetchImpl: typeof fetch, url: string, latencies: number[]) {
  const response = await fetchImpl(url, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
    body: '{"model":"m","input":"hi","stream":true}',
  });
  const reader = response.body!.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    const stamp = stamps.get(value);
    if (stamp !== undefined) latencies.push(performance.now() - stamp);
    bytes += value.byteLength;
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
const median = (values: number[]) => percentile(values, 50);

// The floor under any recorder that persists while the streams run, on this machine: each chunk
// handed on by a subclassed reader (the cheapest way to see a chunk without a second stream),
// copied into a pooled buffer, and every 100 ms all buffers go (transferred, no copy) to a
// worker thread that inserts each as one BLOB row into SQLite (WAL, synchronous NORMAL, 16 KiB
// pages, as the store), and sends them back. No request hashing, redaction, key learning,
// event framing, chunk timings or tape rows: only the bytes, which any recorder must write.
const FLOOR_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require('node:module').createRequire(workerData.base)('better-sqlite3');
const db = new Database(workerData.path);
db.pragma('page_size = 16384');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS segments (id INTEGER PRIMARY KEY, stream INTEGER, bytes BLOB)');
const insert = db.prepare('INSERT INTO segments (stream, bytes) VALUES (?, ?)');
const write = db.transaction((batch) => {
  for (const { stream, buffer, length } of batch) insert.run(stream, Buffer.from(buffer, 0, length));
});
parentPort.on('message', ({ id, batch }) => {
  write(batch);
  parentPort.postMessage({ id, buffers: batch.map((each) => each.buffer) }, batch.map((each) => each.buffer));
});
`;
const FLOOR_BUFFER_BYTES = 256 * 1024;
function createFloorRecorder(path: string) {
  const worker = new Worker(FLOOR_WORKER, {
    eval: true,
    workerData: { path, base: new URL('../packages/recorder/package.json', import.meta.url).href },
  });
  const pool: ArrayBuffer[] = [];
  let batch: Array<{ stream: number; buffer: ArrayBuffer; length: number }> = [];
  const pending = new Map<number, () => void>();
  let nextId = 0;
  let streams = 0;
  worker.on('message', ({ id, buffers }: { id: number; buffers: ArrayBuffer[] }) => {
    pool.push(...buffers);
    pending.get(id)?.();
    pending.delete(id);
  });
  const open = new Set<{ flush(): void }>();
  const send = () => {
    for (const each of open) each.flush();
    if (batch.length === 0) return Promise.resolve();
    const id = nextId++;
    const sent = batch;
    batch = [];
    worker.postMessage(
      { id, batch: sent },
      sent.map((each) => each.buffer),
    );
    return new Promise<void>((resolve) => pending.set(id, resolve));
  };
  const timer = setInterval(send, 100);
  const floorStream = (body: ReadableStream<Uint8Array>) => {
    const stream = streams++;
    let buffer: Uint8Array | undefined;
    let length = 0;
    const tape = {
      flush() {
        if (buffer && length > 0)
          batch.push({ stream, buffer: buffer.buffer as ArrayBuffer, length });
        buffer = undefined;
        length = 0;
      },
    };
    open.add(tape);
    return new DirectStream(body, (result) => {
      if (result.done) {
        tape.flush();
        open.delete(tape);
        return result;
      }
      const chunk = result.value;
      for (let at = 0; at < chunk.byteLength; ) {
        if (!buffer || length === buffer.byteLength) {
          tape.flush();
          buffer = new Uint8Array(pool.pop() ?? new ArrayBuffer(FLOOR_BUFFER_BYTES));
        }
        const take = Math.min(chunk.byteLength - at, buffer.byteLength - length);
        buffer.set(chunk.subarray(at, at + take), length);
        length += take;
        at += take;
      }
      return result;
    });
  };
  return {
    fetch: (async (input, init) => {
      const response = await stampingFetch(input, init);
      return new Response(floorStream(response.body!), {
        status: response.status,
        headers: response.headers,
      });
    }) as typeof fetch,
    flush: send,
    async close() {
      clearInterval(timer);
      await send();
      await worker.terminate();
    },
  };
}

const directory = mkdtempSync(join(tmpdir(), 'tapedeck-bench-'));
const floor = createFloorRecorder(join(directory, 'floor.sqlite'));
const store = createSqliteStore({ path: join(directory, 'overhead.sqlite') });
const recorder = createRecorder({ store, onError: (error) => console.error(error.message) });
const recordedFetch = recorder.wrap(stampingFetch);

interface Result {
  mbPerSecond: number[];
  latencies: number[];
  /** Each round's p99 latency. */
  roundP99: number[];
}
const scenarios = {
  '20 MB stream': async (fetchImpl: typeof fetch, latencies: number[]) => {
    const bytes = await consume(fetchImpl, `${base}/big`, latencies);
    if (bytes !== big.byteLength) throw new Error(`read ${bytes} of ${big.byteLength} bytes`);
    return bytes;
  },
  '100 x 2,000 events': async (fetchImpl: typeof fetch, latencies: number[]) => {
    const totals = await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        consume(fetchImpl, `${base}/small/${index}`, latencies),
      ),
    );
    const bytes = totals.reduce((sum, total) => sum + total, 0);
    if (bytes !== smallBytes * 100) throw new Error(`read ${bytes} of ${smallBytes * 100} bytes`);
    return bytes;
  },
};

const rows: string[][] = [];
type Side = 'plain' | 'recorded' | 'floor';
const sides: Record<Side, { fetch: typeof fetch; flush?: () => Promise<void> }> = {
  plain: { fetch: stampingFetch },
  recorded: { fetch: recordedFetch, flush: () => recorder.flush() },
  floor: { fetch: floor.fetch, flush: () => floor.flush() },
};
const orders: Side[][] = [
  ['plain', 'recorded', 'floor'],
  ['recorded', 'floor', 'plain'],
  ['floor', 'plain', 'recorded'],
];
for (const [name, run] of Object.entries(scenarios)) {
  const results: Record<Side, Result> = {
    plain: { mbPerSecond: [], latencies: [], roundP99: [] },
    recorded: { mbPerSecond: [], latencies: [], roundP99: [] },
    floor: { mbPerSecond: [], latencies: [], roundP99: [] },
  };
  // Warm up every path, then rotate the order so drift hits all sides alike.
  for (const side of Object.values(sides)) {
    await run(side.fetch, []);
    await side.flush?.();
  }
  for (let round = 0; round < RUNS; round++) {
    for (const side of orders[round % orders.length]!) {
      const started = performance.now();
      const latencies: number[] = [];
      const bytes = await run(sides[side].fetch, latencies);
      results[side].latencies.push(...latencies);
      results[side].roundP99.push(percentile(latencies, 99));
      const seconds = (performance.now() - started) / 1000;
      results[side].mbPerSecond.push(bytes / 1024 / 1024 / seconds);
      // Persistence runs off the consumer's path; let it finish between runs.
      await sides[side].flush?.();
    }
  }
  const plain = median(results.plain.mbPerSecond);
  const recorded = median(results.recorded.mbPerSecond);
  const floorRate = median(results.floor.mbPerSecond);
  // Each round's own ratio: plain and recorded run back to back, so drift between rounds (this
  // shared machine's speed moves by a third within minutes) falls out.
  const ratios = (side: Side) => {
    const each = results[side].mbPerSecond.map(
      (rate, round) => rate / results.plain.mbPerSecond[round]!,
    );
    const sorted = [...each].sort((a, b) => a - b);
    return `${median(each).toFixed(3)} (${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)})`;
  };
  rows.push([
    name,
    plain.toFixed(1),
    recorded.toFixed(1),
    ratios('recorded'),
    floorRate.toFixed(1),
    ratios('floor'),
    `${percentile(results.plain.latencies, 50).toFixed(3)} / ${percentile(results.plain.latencies, 99).toFixed(3)}`,
    `${percentile(results.recorded.latencies, 50).toFixed(3)} / ${percentile(results.recorded.latencies, 99).toFixed(3)}`,
    (percentile(results.recorded.latencies, 99) - percentile(results.plain.latencies, 99)).toFixed(
      3,
    ),
    // A stall of the whole process (a full GC, the machine's neighbours) delays every stream's
    // pending chunk at once, so the p99 over all rounds moves with a single one.
    (() => {
      const added = results.recorded.roundP99
        .map((p99, round) => p99 - results.plain.roundP99[round]!)
        .sort((a, b) => a - b);
      return `${median(added).toFixed(3)} (${added[0]!.toFixed(2)}–${added.at(-1)!.toFixed(2)})`;
    })(),
  ]);
}

await recorder.close();
await floor.close();
const stats = await store.stats();
await store.close();
server.close();
rmSync(directory, { recursive: true, force: true });

const header = [
  'scenario',
  'plain MB/s',
  'recorded MB/s',
  'ratio',
  'floor MB/s',
  'floor ratio',
  'plain chunk ms p50/p99',
  'recorded chunk ms p50/p99',
  'added p99 ms',
  'per round',
];
const widths = header.map((title, column) =>
  Math.max(title.length, ...rows.map((row) => row[column]!.length)),
);
const line = (cells: string[]) =>
  `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
console.log(
  `recorder overhead, ${RUNS} rounds in rotating order (Node ${process.version}); MB/s: medians; ratio: median of each round's (range); floor: bytes copied and written to SQLite on a worker, nothing else`,
);
console.log(line(header));
console.log(line(widths.map((width) => '-'.repeat(width))));
for (const row of rows) console.log(line(row));
console.log(`tapes written: ${stats.tapes}, events: ${stats.events}, bytes: ${stats.bytes}`);

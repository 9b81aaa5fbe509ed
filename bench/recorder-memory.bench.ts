// Memory of 1,000 concurrent recorded streams against 1,000 plain fetch streams (the anchor),
// in one process and one run: RSS and heap sampled every 50 ms while the streams are open, and
// after they end (with a forced GC). Each stream is 100 writes of 2 events, 20 ms apart (~2 s),
// so all 1,000 are open at once; tapes go to a real SQLite file.
// Run: npx -y pnpm@10.34.9 --filter @tapedeck/recorder... build && node bench/run.mjs recorder-memory

import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRecorder, createSqliteStore } from '../packages/recorder/dist/index.js';

const STREAMS = 1_000;
const WRITES = 100;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const encoder = new TextEncoder();
const write = (index: number) =>
  encoder.encode(
    [0, 1]
      .map(
        (offset) =>
          `data: {"id":"gen-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"token ${index * 2 + offset} of a long answer"},"finish_reason":null}]}\n\n`,
      )
      .join(''),
  );
const writes = Array.from({ length: WRITES }, (_, index) => write(index));

const server = createServer(async (request, response) => {
  for await (const _ of request) {
  }
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const chunk of writes) {
    response.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  response.end('data: [DONE]\n\n');
});
server.maxConnections = STREAMS * 2;
server.listen({ port: 0, host: '127.0.0.1', backlog: STREAMS * 2 });
await once(server, 'listening');
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;

async function run(fetchImpl: typeof fetch) {
  let peakRss = 0;
  let peakHeap = 0;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  }, 50);
  const started = performance.now();
  const sizes = await Promise.all(
    Array.from({ length: STREAMS }, async () => {
      const response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}',
      });
      let bytes = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
        bytes += chunk.byteLength;
      return bytes;
    }),
  );
  clearInterval(sampler);
  return {
    peakRss,
    peakHeap,
    seconds: (performance.now() - started) / 1000,
    bytes: sizes.reduce((a, b) => a + b, 0),
  };
}

const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return process.memoryUsage();
};

const directory = mkdtempSync(join(tmpdir(), 'tapedeck-memory-'));
const store = createSqliteStore({ path: join(directory, 'memory.sqlite') });
const recorder = createRecorder({ store, onError: (error) => console.error(error.message) });

// Warm both paths (JIT, sockets, the writer thread) with a few streams first.
await Promise.all(
  Array.from({ length: 20 }, () =>
    fetch(url, { method: 'POST', body: '{}' }).then((r) => r.text()),
  ),
);
await Promise.all(
  Array.from({ length: 20 }, () =>
    recorder
      .fetch(url, { method: 'POST', headers: { accept: 'text/event-stream' }, body: '{}' })
      .then((r) => r.text()),
  ),
);
await recorder.flush();

const before = await settle();
const plain = await run(fetch);
const afterPlain = await settle();
const recorded = await run(recorder.fetch);
await recorder.flush();
const afterRecorded = await settle();
const stats = await store.stats();
await recorder.close();
await store.close();
server.close();
rmSync(directory, { recursive: true, force: true });

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
console.log(
  `${STREAMS} concurrent streams x ${WRITES * 2 + 1} events (Node ${process.version}); MB`,
);
console.log(
  '| run | RSS before | peak RSS | peak - before | heap peak | RSS after end + GC | seconds |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
console.log(
  `| plain fetch (anchor) | ${mb(before.rss)} | ${mb(plain.peakRss)} | ${mb(plain.peakRss - before.rss)} | ${mb(plain.peakHeap)} | ${mb(afterPlain.rss)} | ${plain.seconds.toFixed(2)} |`,
);
console.log(
  `| recorded fetch | ${mb(afterPlain.rss)} | ${mb(recorded.peakRss)} | ${mb(recorded.peakRss - afterPlain.rss)} | ${mb(recorded.peakHeap)} | ${mb(afterRecorded.rss)} | ${recorded.seconds.toFixed(2)} |`,
);
console.log(
  `added by recording at peak: ${mb(recorded.peakRss - afterPlain.rss - (plain.peakRss - before.rss))} MB RSS; after the streams end: ${mb(afterRecorded.rss - afterPlain.rss)} MB; heap after: ${mb(afterRecorded.heapUsed)} vs ${mb(afterPlain.heapUsed)} MB`,
);
console.log(
  `tapes: ${stats.tapes} (${stats.byOutcome.complete ?? 0} complete), events: ${stats.events}`,
);
if (plain.bytes !== recorded.bytes)
  throw new Error(`plain read ${plain.bytes} bytes, recorded ${recorded.bytes}`);

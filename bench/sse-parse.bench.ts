// Parse throughput of @tapedeck/sse against eventsource-parser (the anchor) on a generated 50 MB
// LLM-like stream fed as 64 KiB Uint8Array chunks. Both sides include their UTF-8 decoding:
// eventsource-parser gets a streaming TextDecoder's strings, ours gets the bytes.
// Run: npx -y pnpm@10.34.9 --filter @tapedeck/sse build && node bench/run.mjs sse-parse

import { createParser } from '../packages/sse/dist/index.js';
import { createParser as createAnchorParser } from '../packages/sse/node_modules/eventsource-parser/dist/index.js';

const TARGET_BYTES = 50 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const RUNS = 9;

// A seeded PRNG so every run and every machine measures the same stream.
let state = 42;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
// Mostly English with some non-ASCII words, as LLM output tends to be.
const words = [
  'the',
  'model',
  'streams',
  'tokens',
  'quickly',
  'and',
  'a',
  'response',
  'with',
  'of',
  'to',
  'in',
  'is',
  'that',
  'for',
  'it',
  'as',
  'on',
  'this',
  'by',
  'from',
  'text',
  'data',
  'naïve',
  'café',
  'über',
  '日本語',
  'données',
  '🚀',
  'Привет',
  'señal',
];
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

function generateStream(): { bytes: Uint8Array; events: number } {
  const parts: string[] = [];
  let length = 0;
  let sequence = 0;
  let events = 0;
  const text: string[] = [];
  while (length < TARGET_BYTES) {
    let event: string;
    if (sequence % 40 === 39) {
      // Now and then a multi-kilobyte data line, like response.output_text.done.
      const done = JSON.stringify({
        type: 'response.output_text.done',
        sequence_number: sequence,
        item_id: 'msg_67ccd3a9da748190baa7f1570fe91ac6',
        output_index: 0,
        content_index: 0,
        text: text.join(''),
        logprobs: [],
      });
      text.length = 0;
      event = `event: response.output_text.done\ndata: ${done}\n\n`;
    } else {
      // 150–250 bytes: a delta of a few words.
      let delta = '';
      const deltaBytes = 8 + Math.floor(random() * 80);
      while (Buffer.byteLength(delta) < deltaBytes) delta += `${pick(words)} `;
      text.push(delta);
      const data = JSON.stringify({
        type: 'response.output_text.delta',
        sequence_number: sequence,
        item_id: 'msg_67ccd3a9da748190baa7f1570fe91ac6',
        output_index: 0,
        content_index: 0,
        delta,
        logprobs: [],
      });
      event = `event: response.output_text.delta\ndata: ${data}\n\n`;
    }
    parts.push(event);
    length += Buffer.byteLength(event);
    sequence += 1;
    events += 1;
  }
  return { bytes: new TextEncoder().encode(parts.join('')), events };
}

const { bytes, events: expectedEvents } = generateStream();
const chunks: Uint8Array[] = [];
for (let position = 0; position < bytes.length; position += CHUNK_BYTES)
  chunks.push(bytes.slice(position, position + CHUNK_BYTES));
const megabytes = bytes.length / 1e6;

interface Contender {
  name: string;
  /** Parses every chunk and returns how many events came out (and touches what it decoded). */
  run: () => { events: number; checksum: number };
}

const contenders: Contender[] = [
  {
    name: 'TextDecoder only (ceiling)',
    run: () => {
      const decoder = new TextDecoder();
      let checksum = 0;
      for (const chunk of chunks) checksum += decoder.decode(chunk, { stream: true }).length;
      checksum += decoder.decode().length;
      return { events: 0, checksum };
    },
  },
  {
    name: 'eventsource-parser 3 + TextDecoder',
    run: () => {
      let events = 0;
      let checksum = 0;
      const decoder = new TextDecoder();
      const parser = createAnchorParser({
        onEvent: (event) => {
          events += 1;
          checksum += event.data.length;
        },
      });
      for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }));
      parser.feed(decoder.decode());
      return { events, checksum };
    },
  },
  {
    name: '@tapedeck/sse full',
    run: () => {
      let events = 0;
      let checksum = 0;
      const parser = createParser({
        onEvent: (event) => {
          events += 1;
          checksum += event.data.length;
        },
      });
      for (const chunk of chunks) parser.feed(chunk);
      parser.end();
      return { events, checksum };
    },
  },
  {
    name: '@tapedeck/sse framing',
    run: () => {
      let events = 0;
      let checksum = 0;
      const parser = createParser({
        mode: 'framing',
        onEvent: (event) => {
          events += 1;
          checksum += event.byteEnd - event.byteStart;
        },
      });
      for (const chunk of chunks) parser.feed(chunk);
      parser.end();
      return { events, checksum };
    },
  },
];

// `--only=<name part>` runs a single contender, for profiling.
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
if (only !== undefined)
  contenders.splice(0, contenders.length, ...contenders.filter((c) => c.name.includes(only)));

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

console.log(
  `stream: ${megabytes.toFixed(1)} MB, ${expectedEvents} events, ${chunks.length} chunks of 64 KiB; median of ${RUNS} interleaved runs`,
);
// Wall time suffers when other processes share the CPU; CPU time (this process, all threads,
// GC included) is the steadier measure of work done, so the ratios use it and both are shown.
const wall = new Map<string, number[]>(contenders.map((contender) => [contender.name, []]));
const cpu = new Map<string, number[]>(contenders.map((contender) => [contender.name, []]));
// One warm-up round, then interleave the contenders so drift hits them all alike.
for (let round = 0; round <= RUNS; round++) {
  for (const contender of contenders) {
    // No forced GC here: it shrinks the young generation and penalises allocation, which no
    // long-running process sees; the warm-up round and interleaving keep the contenders even.
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const result = contender.run();
    const elapsedMs = performance.now() - start;
    const cpuUsed = process.cpuUsage(cpuStart);
    if (contender.name !== 'TextDecoder only (ceiling)' && result.events !== expectedEvents)
      throw new Error(`${contender.name} saw ${result.events} events, expected ${expectedEvents}`);
    if (round > 0) {
      wall.get(contender.name)?.push(elapsedMs);
      cpu.get(contender.name)?.push((cpuUsed.user + cpuUsed.system) / 1000);
    }
  }
}

const anchor = 'eventsource-parser 3 + TextDecoder';
const anchorWallMs = median(wall.get(anchor) ?? [Number.NaN]);
const anchorCpuMs = median(cpu.get(anchor) ?? [Number.NaN]);
const rows = contenders.map((contender) => {
  const wallMs = median(wall.get(contender.name) ?? []);
  const cpuMs = median(cpu.get(contender.name) ?? []);
  const isCeiling = contender.name.startsWith('TextDecoder');
  return {
    parser: contender.name,
    'CPU ms': cpuMs.toFixed(1),
    'MB/s (CPU)': (megabytes / (cpuMs / 1000)).toFixed(0),
    'events/s (CPU)': isCeiling
      ? '—'
      : Math.round(expectedEvents / (cpuMs / 1000)).toLocaleString('en-US'),
    'ratio (CPU)': `${(anchorCpuMs / cpuMs).toFixed(2)}×`,
    'wall ms': wallMs.toFixed(1),
    'MB/s (wall)': (megabytes / (wallMs / 1000)).toFixed(0),
    'ratio (wall)': `${(anchorWallMs / wallMs).toFixed(2)}×`,
  };
});
console.table(rows);
console.log(
  'ratio = eventsource-parser time / this time: above 1× is faster than eventsource-parser.',
);

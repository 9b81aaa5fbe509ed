// Parse throughput of @tapedeck/sse against eventsource-parser (the anchor) on a generated 50 MB
// LLM-like stream fed as 64 KiB Uint8Array chunks. Both sides include their UTF-8 decoding:
// eventsource-parser gets a streaming TextDecoder's strings, ours gets the bytes. A second,
// ASCII-only stream of the same shape is measured too, for information.
// Run: npx -y pnpm@10.34.9 --filter @tapedeck/sse build && node bench/run.mjs sse-parse
// (`--only=<name part>` after the file name runs one contender, for profiling.)
import { concatBytes, decodeUtf8 } from '../packages/sse/dist/bytes.js';
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
const englishWords = ['the', 'model', 'streams', 'tokens', 'quickly', 'and', 'a', 'response'];
englishWords.push('with', 'of', 'to', 'in', 'is', 'that', 'for', 'it', 'as', 'on', 'this', 'by');
englishWords.push('from', 'text', 'data');
// Mostly English with some non-ASCII words (2- to 4-byte UTF-8), as LLM output tends to be.
const mixedWords = [
  ...englishWords,
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

/** `response.output_text.delta` events of about 180–250 bytes; every 40th a 2–4 KB `.done`. */
function generateStream(
  words: readonly string[],
  targetBytes: number,
): { bytes: Uint8Array; events: number; parts: string[] } {
  const parts: string[] = [];
  let length = 0;
  let sequence = 0;
  const text: string[] = [];
  while (length < targetBytes) {
    let event: string;
    if (sequence % 40 === 39) {
      const done = JSON.stringify({
        type: 'response.output_text.done',
        sequence_number: sequence,
        item_id: 'msg_67ccd3a9da74',
        output_index: 0,
        content_index: 0,
        text: text.join('').repeat(2),
      });
      text.length = 0;
      event = `event: response.output_text.done\ndata: ${done}\n\n`;
    } else {
      let delta = '';
      const deltaBytes = 2 + Math.floor(random() * 60);
      while (Buffer.byteLength(delta) < deltaBytes) delta += `${pick(words)} `;
      text.push(delta);
      const data = JSON.stringify({
        type: 'response.output_text.delta',
        sequence_number: sequence,
        item_id: 'msg_67ccd3a9da74',
        output_index: 0,
        content_index: 0,
        delta,
      });
      event = `event: response.output_text.delta\ndata: ${data}\n\n`;
    }
    parts.push(event);
    length += Buffer.byteLength(event);
    sequence += 1;
  }
  return { bytes: new TextEncoder().encode(parts.join('')), events: sequence, parts };
}

interface Contender {
  name: string;
  /** Parses every chunk and returns how many events came out (and touches what it decoded). */
  run: (chunks: readonly Uint8Array[]) => { events: number; checksum: number };
}

const ANCHOR = 'eventsource-parser 3 + TextDecoder';
const CEILING = 'TextDecoder only (ceiling)';
// Added for information: decoding alone as full mode does it for chunks of 4 KiB and more (the
// complete lines of each chunk at once; ASCII copied, other text through the WebAssembly
// decoder), the floor under our full mode. Smaller chunks are decoded value by value instead, so
// for the one-event-per-chunk stream this row is only an approximation.
const OUR_DECODING = 'our decoding only (information)';
const decodeOnly = new Set([CEILING, OUR_DECODING]);
const allContenders: Contender[] = [
  {
    name: CEILING,
    run: (chunks) => {
      const decoder = new TextDecoder();
      let checksum = 0;
      for (const chunk of chunks) checksum += decoder.decode(chunk, { stream: true }).length;
      checksum += decoder.decode().length;
      return { events: 0, checksum };
    },
  },
  {
    name: OUR_DECODING,
    run: (chunks) => {
      let checksum = 0;
      let carry: Uint8Array | null = null; // a line cut by the chunk boundary
      for (const chunk of chunks) {
        let start = 0;
        if (carry !== null) {
          start = chunk.indexOf(10) + 1; // every chunk of these streams holds a line end
          const line = concatBytes([carry, chunk.subarray(0, start)]);
          checksum += decodeUtf8(line, 0, line.length, 0).length;
        }
        const end = chunk.lastIndexOf(10) + 1;
        checksum += decodeUtf8(chunk, start, end, 0).length;
        carry = end < chunk.length ? chunk.subarray(end) : null;
      }
      return { events: 0, checksum };
    },
  },
  {
    name: ANCHOR,
    run: (chunks) => {
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
    run: (chunks) => {
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
    run: (chunks) => {
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

const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const contenders =
  only === undefined
    ? allContenders
    : allContenders.filter((contender) => contender.name.includes(only));

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

function measure(
  label: string,
  words: readonly string[],
  { targetBytes = TARGET_BYTES, chunking = '64 KiB' as '64 KiB' | 'one event' } = {},
): void {
  const { bytes, events: expectedEvents, parts } = generateStream(words, targetBytes);
  const chunks: Uint8Array[] = [];
  if (chunking === 'one event') {
    const encoder = new TextEncoder();
    for (const part of parts) chunks.push(encoder.encode(part));
  } else {
    for (let position = 0; position < bytes.length; position += CHUNK_BYTES)
      chunks.push(bytes.slice(position, position + CHUNK_BYTES));
  }
  const megabytes = bytes.length / 1e6;
  console.log(
    `\n${label}: ${megabytes.toFixed(1)} MB, ${expectedEvents.toLocaleString('en-US')} events (avg ${Math.round(bytes.length / expectedEvents)} bytes), ${chunks.length.toLocaleString('en-US')} chunks of ${chunking}; median of ${RUNS} interleaved runs`,
  );
  // Wall time suffers when other processes share the CPU; CPU time (this process, all threads,
  // GC included) is the steadier measure of work done, so the ratios use it and both are shown.
  const wall = new Map<string, number[]>(contenders.map((contender) => [contender.name, []]));
  const cpu = new Map<string, number[]>(contenders.map((contender) => [contender.name, []]));
  // One warm-up round, then the contenders take turns so drift hits them all alike. No forced GC
  // between runs: it shrinks the young generation and penalises allocation, which no
  // long-running process sees.
  for (let round = 0; round <= RUNS; round++) {
    for (const contender of contenders) {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      const result = contender.run(chunks);
      const elapsedMs = performance.now() - start;
      const cpuUsed = process.cpuUsage(cpuStart);
      if (!decodeOnly.has(contender.name) && result.events !== expectedEvents)
        throw new Error(
          `${contender.name} saw ${result.events} events, expected ${expectedEvents}`,
        );
      if (round > 0) {
        wall.get(contender.name)?.push(elapsedMs);
        cpu.get(contender.name)?.push((cpuUsed.user + cpuUsed.system) / 1000);
      }
    }
  }
  const anchorWallMs = median(wall.get(ANCHOR) ?? [Number.NaN]);
  const anchorCpuMs = median(cpu.get(ANCHOR) ?? [Number.NaN]);
  console.table(
    contenders.map((contender) => {
      const wallMs = median(wall.get(contender.name) ?? []);
      const cpuMs = median(cpu.get(contender.name) ?? []);
      return {
        parser: contender.name,
        'CPU ms': cpuMs.toFixed(1),
        'MB/s (CPU)': (megabytes / (cpuMs / 1000)).toFixed(0),
        'events/s (CPU)': decodeOnly.has(contender.name)
          ? '—'
          : Math.round(expectedEvents / (cpuMs / 1000)).toLocaleString('en-US'),
        'ratio (CPU)': `${(anchorCpuMs / cpuMs).toFixed(2)}×`,
        'wall ms': wallMs.toFixed(1),
        'MB/s (wall)': (megabytes / (wallMs / 1000)).toFixed(0),
        'ratio (wall)': `${(anchorWallMs / wallMs).toFixed(2)}×`,
      };
    }),
  );
}

measure('LLM-like stream, mostly English with non-ASCII words (the target workload)', mixedWords);
measure('same shape, ASCII-only text (for information)', englishWords);
measure(
  '10 MB of the target stream, one event per chunk as a live stream arrives (for information)',
  mixedWords,
  {
    targetBytes: 10 * 1024 * 1024,
    chunking: 'one event',
  },
);
console.log(
  '\nratio = eventsource-parser time / this time (above 1× is faster). Targets: full ≥ 1.1×, framing ≥ 2×.',
);

// Per-event cost of @tapedeck/types against the real client's schema (the anchor):
// parseEventData('openresponses', …) vs JSON.parse + @openrouter/sdk 1.3.19's own
// StreamEvents schema (what the SDK runs on every event it hands a user), on the fixture and
// sample events; and assembleOutput over a whole stream. Also requestHash against a bare
// sha256(JSON.stringify(body)) floor.
// Run: npx -y pnpm@10.34.9 --filter @tapedeck/types build && node bench/run.mjs types-parse

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assembleOutput, parseEventData, requestHash } from '../packages/types/dist/index.js';
import { StreamEvents$inboundSchema } from '../packages/types/node_modules/@openrouter/sdk/esm/models/streamevents.js';

const RUNS = 7;
const fixtures = fileURLToPath(new URL('../packages/types/src/__fixtures__/', import.meta.url));

function split(text: string): Array<{ type?: string; data: string }> {
  const events: Array<{ type?: string; data: string }> = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''));
    if (data.length > 0 && data.join('\n') !== '[DONE]') events.push({ data: data.join('\n') });
  }
  return events;
}
const files = [
  ...readdirSync(fixtures).map((name) => `${fixtures}${name}`),
  ...readdirSync(`${fixtures}samples/`).map((name) => `${fixtures}samples/${name}`),
].filter((path) => /openresponses-(?!unknown)[^/]*\.sse$/.test(path));
const events = files.flatMap((path) => split(readFileSync(path, 'utf8')));
const textStream = split(readFileSync(`${fixtures}samples/openresponses-text.sse`, 'utf8'));
// A long text stream: the sample's deltas repeated, like a 2 000-token answer.
const deltas = textStream.filter((event) => event.data.includes('output_text.delta'));
const longStream = [
  ...textStream.slice(0, 4),
  ...Array.from({ length: 2000 }, (_, index) => deltas[index % deltas.length]!),
  ...textStream.slice(-4),
];
const body = JSON.stringify({
  model: 'openai/gpt-4o-mini',
  input: [{ role: 'user', content: 'Summarise the plot of Hamlet in three sentences.'.repeat(20) }],
  stream: true,
  user: 'user-123',
  metadata: { run: '42' },
  tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } }],
});
const url = 'https://openrouter.ai/api/v1/responses';

const REPEAT = 200;
interface Contender {
  group: string;
  name: string;
  items: number;
  run: () => number;
}
const contenders: Contender[] = [
  {
    group: 'event',
    name: '@openrouter/sdk StreamEvents (anchor)',
    items: events.length * REPEAT,
    run: () => {
      let known = 0;
      for (let round = 0; round < REPEAT; round++)
        for (const event of events) {
          const result = StreamEvents$inboundSchema.safeParse(JSON.parse(event.data));
          if (result.success && !(result.data as { isUnknown?: boolean }).isUnknown) known++;
        }
      return known;
    },
  },
  {
    group: 'event',
    name: '@tapedeck/types parseEventData',
    items: events.length * REPEAT,
    run: () => {
      let known = 0;
      for (let round = 0; round < REPEAT; round++)
        for (const event of events) {
          const result = parseEventData('openresponses', event);
          if (result.ok && result.known) known++;
        }
      return known;
    },
  },
  {
    group: 'stream',
    name: 'JSON.parse every event (floor)',
    items: 20 * longStream.length,
    run: () => {
      let length = 0;
      for (let round = 0; round < 20; round++)
        for (const event of longStream) length += JSON.parse(event.data).type.length;
      return length;
    },
  },
  {
    group: 'stream',
    name: '@tapedeck/types assembleOutput',
    items: 20 * longStream.length,
    run: () => {
      let length = 0;
      for (let round = 0; round < 20; round++)
        length += assembleOutput('openresponses', longStream).text.length;
      return length;
    },
  },
  {
    group: 'hash',
    name: 'sha256(JSON.stringify(body)) (floor)',
    items: 5000,
    run: () => {
      let total = 0;
      for (let round = 0; round < 5000; round++)
        total += createHash('sha256').update(`POST\n${url}\n${body}`).digest('hex').length;
      return total;
    },
  },
  {
    group: 'hash',
    name: '@tapedeck/types requestHash',
    items: 5000,
    run: () => {
      let total = 0;
      for (let round = 0; round < 5000; round++)
        total += requestHash({ method: 'POST', url, body }).length;
      return total;
    },
  },
];

const gc = (globalThis as { gc?: () => void }).gc;
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[values.length >> 1] as number;
const times = new Map<string, number[]>(contenders.map((contender) => [contender.name, []]));
const firstResult = new Map<string, number>();
for (let round = 0; round <= RUNS; round++) {
  for (const contender of contenders) {
    gc?.();
    const start = performance.now();
    const result = contender.run();
    const elapsedMs = performance.now() - start;
    firstResult.set(contender.name, result);
    if (round > 0) times.get(contender.name)?.push(elapsedMs);
  }
}
// Both schemas must call every fixture event known, or the comparison means nothing.
const anchorKnown = firstResult.get('@openrouter/sdk StreamEvents (anchor)');
if (
  anchorKnown !== events.length * REPEAT ||
  firstResult.get('@tapedeck/types parseEventData') !== anchorKnown
)
  throw new Error('the two schemas disagree on the fixture events');

console.log(
  `${events.length} OpenResponses fixture events ×${REPEAT}; a ${longStream.length}-event text stream ×20; a ${body.length}-byte request body ×5000; median of ${RUNS} runs (interleaved)`,
);
const rows = contenders.map((contender) => {
  const ms = median(times.get(contender.name) ?? []);
  const anchor = contenders.find((other) => other.group === contender.group);
  const anchorMs = median(times.get(anchor?.name ?? '') ?? []);
  return {
    what: contender.name,
    'median ms': ms.toFixed(1),
    'per second': Math.round(contender.items / (ms / 1000)).toLocaleString('en-US'),
    'µs each': ((ms * 1000) / contender.items).toFixed(2),
    'vs first of group': `${(anchorMs / ms).toFixed(2)}×`,
  };
});
console.table(rows);

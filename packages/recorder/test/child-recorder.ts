// Run by the tests in a separate process (`node --import tsx child-recorder.ts '<json>'`):
// records `streams` concurrent streams from `url` into the SQLite file at `path` and reports
// progress as JSON lines on stdout.
import { createHash } from 'node:crypto';
import { createRecorder, createSqliteStore } from '../src/index.js';

const {
  path,
  url,
  streams = 1,
  flushIntervalMs = 20,
} = JSON.parse(process.argv[2] ?? '{}') as {
  path: string;
  url: string;
  streams?: number;
  flushIntervalMs?: number;
};
const say = (message: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify(message)}\n`);

const errors: Array<{ code: string; message: string }> = [];
const store = createSqliteStore({ path });
const recorder = createRecorder({
  store,
  flushIntervalMs,
  onError: (error) => errors.push({ code: error.code, message: error.message }),
});

async function one(index: number) {
  const response = await recorder.fetch(
    `${url}${url.includes('?') ? '&' : '?'}stream=${index}&pid=${process.pid}`,
    {
      method: 'POST',
      headers: { accept: 'text/event-stream', authorization: 'Bearer sk-child-secret' },
      body: '{"name":"child"}',
    },
  );
  const reader = response.body!.getReader();
  const hash = createHash('sha256');
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    bytes += value.byteLength;
    if (streams === 1) say({ type: 'chunk', bytes });
  }
  return { bytes, sha256: hash.digest('hex') };
}

const results = await Promise.all(Array.from({ length: streams }, (_, index) => one(index)));
await recorder.close();
await store.close();
say({ type: 'done', results, errors, stats: recorder.stats() });

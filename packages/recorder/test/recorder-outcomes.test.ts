import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
// A default import, as SDKs use it: the interceptor patches the module object.
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TapeStore } from '@tapedeck/types';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createMemoryStore,
  createRecorder,
  createSqliteStore,
  type RecorderOptions,
} from '../src/index.js';
import { APPEND_TICK, type AppendTick } from '../src/internal.js';
import { concatBytes, expectSameBytes, type Reply, readChunks, startUpstream } from './upstream.js';

const opperBytes = new Uint8Array(readFileSync('/work/shared/formats/samples/opper-text.sse'));
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
// The opper sample event by event: 8 events of one chunk each.
const opperEvents = text(opperBytes)
  .split(/(?<=\n\n)/)
  .map((event) => new TextEncoder().encode(event));

const opperInit = {
  method: 'POST',
  headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
  body: '{"name":"capital","input":"France"}',
};

const replies = new Map<string, Reply>([
  ['complete', { chunks: opperEvents }],
  ['hang-after-3', { chunks: opperEvents.slice(0, 3), ending: 'hang' }],
  ['reset-after-2', { chunks: opperEvents.slice(0, 2), ending: 'reset' }],
  [
    'rate-limited',
    {
      status: 429,
      headers: { 'content-type': 'application/json', 'retry-after': '7' },
      chunks: ['{"error":{"message":"Rate limit exceeded","code":429}}'],
    },
  ],
]);

/**
 * A recorder whose flush timer fires only when the test calls `fireTimer`; `keptAlive` says
 * whether the recorder last asked the timer to keep the process alive.
 */
function recorderWithHeldTimer(store: TapeStore, options: Partial<RecorderOptions> = {}) {
  let fire: (() => void) | undefined;
  const timer = { keptAlive: false };
  const recorder = createRecorder({
    ...options,
    store,
    _internal: {
      setInterval: (callback) => {
        fire = callback;
        return {
          stop: () => {},
          keepAlive: (keep) => {
            timer.keptAlive = keep;
          },
        };
      },
    },
  });
  return { recorder, fireTimer: () => fire?.(), timer };
}

describe('outcomes against a real upstream', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let directory: string;
  let store: TapeStore;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tapedeck-outcomes-'));
    store = createSqliteStore({ path: join(directory, 'tapes.sqlite') });
    upstream = await startUpstream(({ url }) => {
      const reply = replies.get(new URL(url, 'http://x').searchParams.get('reply') ?? '');
      if (!reply) throw new Error(`no reply for ${url}`);
      return reply;
    });
  });
  afterAll(async () => {
    await upstream.close();
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  async function onlyTape(marker: string) {
    const { tapes } = await store.list({ urlContains: marker });
    expect(tapes).toHaveLength(1);
    return (await store.get(tapes[0]!.spanId))!;
  }

  /** Reads until `eventCount` events have arrived, then returns the reader and the bytes. */
  async function readEvents(body: ReadableStream<Uint8Array>, eventCount: number) {
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    while (text(concatBytes(chunks)).split('\n\n').length - 1 < eventCount) {
      const { done, value } = await reader.read();
      if (done) throw new Error('the stream ended early');
      chunks.push(value);
    }
    return { reader, received: concatBytes(chunks) };
  }

  it('a consumer that cancels mid-stream leaves an aborted tape with every event it received', async () => {
    const recorder = createRecorder({ store });
    const response = await recorder.fetch(
      `${upstream.url}/v2/call/stream?reply=hang-after-3&m=cancel`,
      opperInit,
    );
    const { reader, received } = await readEvents(response.body!, 3);
    await reader.cancel();
    await recorder.close();
    const tape = await onlyTape('m=cancel');
    expect(tape.outcome).toBe('aborted');
    expect(tape.error).toMatch(/cancelled/);
    expectSameBytes(tape.raw, received);
    expect(tape.events).toHaveLength(3);
    expect(tape.upstreamSpanId).toBe('3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f');
  });

  it('an AbortSignal fired mid-stream gives the consumer the AbortError and an aborted tape', async () => {
    const recorder = createRecorder({ store });
    const controller = new AbortController();
    const response = await recorder.fetch(
      `${upstream.url}/v2/call/stream?reply=hang-after-3&m=signal`,
      {
        ...opperInit,
        signal: controller.signal,
      },
    );
    const { reader } = await readEvents(response.body!, 3);
    controller.abort();
    await expect(reader.read()).rejects.toThrow(/abort/i);
    await recorder.close();
    const tape = await onlyTape('m=signal');
    expect(tape.outcome).toBe('aborted');
    expect(tape.events).toHaveLength(3);
  });

  it('an upstream reset mid-stream reaches the consumer as before and leaves an upstream-error tape', async () => {
    const recorder = createRecorder({ store });
    const plain = await fetch(`${upstream.url}/v2/call/stream?reply=reset-after-2`, opperInit);
    const plainError = await readChunks(plain.body).catch((error: unknown) => error);
    expect(plainError).toBeInstanceOf(Error);

    const response = await recorder.fetch(
      `${upstream.url}/v2/call/stream?reply=reset-after-2&m=reset`,
      opperInit,
    );
    const recordedError = await readChunks(response.body).catch((error: unknown) => error);
    expect(String(recordedError)).toBe(String(plainError));
    await recorder.close();
    const tape = await onlyTape('m=reset');
    expect(tape.outcome).toBe('upstream-error');
    expect(tape.error).toBeTruthy();
    expectSameBytes(tape.raw, concatBytes(opperEvents.slice(0, 2)));
    expect(tape.events).toHaveLength(2);
  });

  it('HTTP 429 to a request that asked for a stream is an http-error tape with the body', async () => {
    const recorder = createRecorder({ store });
    const response = await recorder.fetch(`${upstream.url}/v1/responses?reply=rate-limited&m=429`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"m","input":"hi","stream":true}',
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.text()).toBe('{"error":{"message":"Rate limit exceeded","code":429}}');
    await recorder.close();
    const tape = await onlyTape('m=429');
    expect(tape.outcome).toBe('http-error');
    expect(tape.error).toBe('HTTP 429 Too Many Requests');
    expect(tape.response).toMatchObject({ status: 429, statusText: 'Too Many Requests' });
    expect(text(tape.raw)).toBe('{"error":{"message":"Rate limit exceeded","code":429}}');
    expect(tape.family).toBe('openresponses');
  });

  it('a JSON response to a request that did not ask for a stream is not recorded', async () => {
    const recorder = createRecorder({ store });
    const response = await recorder.fetch(
      `${upstream.url}/v1/other?reply=rate-limited&m=plain-json`,
    );
    expect(response.status).toBe(429);
    await response.text();
    await recorder.close();
    expect((await store.list({ urlContains: 'm=plain-json' })).tapes).toEqual([]);
  });

  it('under install(), a fetch consumer that cancels is aborted too', async () => {
    const recorder = createRecorder({ store });
    recorder.install();
    try {
      const response = await fetch(
        `${upstream.url}/v2/call/stream?reply=hang-after-3&m=installed-cancel`,
        opperInit,
      );
      const { reader } = await readEvents(response.body!, 3);
      await reader.cancel();
    } finally {
      recorder.uninstall();
    }
    await recorder.close();
    const tape = await onlyTape('m=installed-cancel');
    expect(tape.outcome).toBe('aborted');
    expect(tape.events).toHaveLength(3);
  });

  it('recorder.fetch and nested wraps under install() record each stream once', async () => {
    const recorder = createRecorder({ store });
    recorder.install();
    try {
      const nested = recorder.wrap(recorder.fetch);
      for (const fetchImpl of [recorder.fetch, nested]) {
        const response = await fetchImpl(
          `${upstream.url}/v2/call/stream?reply=complete&m=once`,
          opperInit,
        );
        expectSameBytes(concatBytes(await readChunks(response.body)), opperBytes);
      }
    } finally {
      recorder.uninstall();
    }
    await recorder.close();
    const { tapes } = await store.list({ urlContains: 'm=once' });
    expect(tapes.map((tape) => tape.outcome)).toEqual(['complete', 'complete']);
  });

  it('under install(), node:http requests are recorded (complete) and a destroyed request is aborted', async () => {
    const recorder = createRecorder({ store });
    recorder.install();
    const get = (marker: string) => {
      const request = http.request(`${upstream.url}/v2/call/stream?${marker}`, {
        method: 'POST',
        headers: {
          accept: 'text/event-stream',
          'content-type': 'application/json',
          authorization: 'Bearer sk-http',
        },
      });
      request.end(opperInit.body);
      return request;
    };
    try {
      const complete = get('reply=complete&m=http-complete');
      const [response] = (await once(complete, 'response')) as [
        import('node:http').IncomingMessage,
      ];
      const parts: Buffer[] = [];
      for await (const part of response) parts.push(part as Buffer);
      expectSameBytes(new Uint8Array(Buffer.concat(parts)), opperBytes);

      const destroyed = get('reply=hang-after-3&m=http-destroy');
      const [hanging] = (await once(destroyed, 'response')) as [
        import('node:http').IncomingMessage,
      ];
      let seen = '';
      for await (const part of hanging) {
        seen += String(part);
        if (seen.split('\n\n').length - 1 >= 3) break;
      }
      destroyed.destroy();
      await once(destroyed, 'close');
    } finally {
      recorder.uninstall();
    }
    await recorder.flush();
    // The destroyed request's tape ends when its socket closes.
    await expect
      .poll(async () => (await store.list({ urlContains: 'm=http-destroy' })).tapes[0]?.outcome)
      .toBe('aborted');
    await recorder.close();
    const complete = await onlyTape('m=http-complete');
    expect(complete.outcome).toBe('complete');
    expectSameBytes(complete.raw, opperBytes);
    expect(complete.upstreamSpanId).toBe('3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f');
    expect(complete.request.headers.authorization).toBe('[REDACTED]');
    const destroyedTape = await onlyTape('m=http-destroy');
    expect(destroyedTape.events).toHaveLength(3);
  });
});

describe('flush timing', () => {
  it('writes buffered events when the flush timer fires, not before', async () => {
    const store = createMemoryStore();
    let tick: (() => void) | undefined;
    let intervalMs = 0;
    let clock = 1_000;
    const recorder = createRecorder({
      store,
      flushIntervalMs: 250,
      _internal: {
        now: () => clock,
        setInterval: (callback, ms) => {
          tick = callback;
          intervalMs = ms;
          return { stop: () => {} };
        },
      },
    });
    const upstream = await startUpstream(() => ({
      chunks: opperEvents.slice(0, 2),
      ending: 'hang',
    }));
    try {
      const response = await recorder.fetch(`${upstream.url}/v2/call/stream`, opperInit);
      const reader = response.body!.getReader();
      let received = '';
      while (received.split('\n\n').length - 1 < 2) {
        clock += 5;
        received += text((await reader.read()).value!);
      }
      expect(intervalMs).toBe(250);
      // One macrotask turn lets queued store writes run; no timer has fired, so there are none.
      await new Promise(setImmediate);
      expect((await store.list()).tapes).toEqual([]);
      tick!();
      await new Promise(setImmediate);
      const [summary] = (await store.list()).tapes;
      const tape = await store.get(summary!.spanId);
      expect(tape?.outcome).toBe('recording');
      expect(tape?.events.map((event) => event.offsetMs)).toEqual(
        tape?.chunks.length === 2 ? [5, 10] : [5, 5],
      );
      expect(tape?.startedAt).toBe(1_000);
      await reader.cancel();
      await recorder.close();
    } finally {
      await upstream.close();
    }
  });
  it('sends a finished stream with the next tick while others record, and at once when it was the last (SQLite)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'tapedeck-finish-tick-'));
    const store = createSqliteStore({ path: join(directory, 'tapes.sqlite') });
    // Which tapes each tick sent to the store carried.
    const ticks: string[][] = [];
    const methods = store as unknown as Record<typeof APPEND_TICK, AppendTick>;
    const appendTick = methods[APPEND_TICK];
    methods[APPEND_TICK] = (batch) => {
      ticks.push([...batch.spanIds]);
      return appendTick(batch);
    };
    const errors: string[] = [];
    const { recorder, fireTimer, timer } = recorderWithHeldTimer(store, {
      onError: (error) => errors.push(error.message),
    });
    const upstream = await startUpstream(({ url }) =>
      url.includes('hang')
        ? { chunks: opperEvents.slice(0, 3), ending: 'hang' }
        : { chunks: opperEvents },
    );
    const outcome = async (marker: string) => {
      const { tapes } = await store.list({ urlContains: marker });
      return tapes[0]?.outcome;
    };
    try {
      const open = await recorder.fetch(`${upstream.url}/v2/call/stream?hang`, opperInit);
      const openReader = open.body!.getReader();
      await openReader.read();
      const done = await recorder.fetch(`${upstream.url}/v2/call/stream?whole`, opperInit);
      await readChunks(done.body);
      // The stream that ended waits for the flush timer: no tick of its own. Only its head is
      // written, still recording and without bytes.
      await new Promise(setImmediate);
      expect(ticks).toEqual([]);
      const { tapes } = await store.list({ urlContains: 'whole' });
      expect(tapes.map(({ outcome, byteLength }) => ({ outcome, byteLength }))).toEqual([
        { outcome: 'recording', byteLength: 0 },
      ]);
      // Until that tick goes, the process may not exit (the timer alone does not hold it).
      expect(timer.keptAlive).toBe(true);
      fireTimer();
      expect(timer.keptAlive).toBe(false);
      expect(ticks).toHaveLength(1);
      expect(ticks[0]).toHaveLength(2);
      await vi.waitFor(async () => expect(await outcome('whole')).toBe('complete'));
      // Finished behind its last bytes: every one of them, every event.
      const whole = (await store.list({ urlContains: 'whole' })).tapes[0]!;
      expect([whole.byteLength, whole.eventCount]).toEqual([opperBytes.byteLength, 8]);
      expect(await outcome('hang')).toBe('recording');
      // The last stream to end needs no timer: its finish goes at once.
      await openReader.cancel();
      await vi.waitFor(async () => expect(await outcome('hang')).toBe('aborted'));
      expect(ticks).toHaveLength(1);
      await recorder.close();
      expect(errors).toEqual([]);
    } finally {
      await upstream.close();
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('sends gathered bytes before the flush interval once they reach a quarter of maxBufferedBytes (SQLite)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'tapedeck-early-tick-'));
    const store = createSqliteStore({ path: join(directory, 'tapes.sqlite') });
    const firstThree = concatBytes(opperEvents.slice(0, 3));
    // A quarter of the budget is one byte less than the stream sends.
    const { recorder } = recorderWithHeldTimer(store, {
      maxBufferedBytes: (firstThree.byteLength - 1) * 4,
    });
    const upstream = await startUpstream(() => ({ chunks: [firstThree], ending: 'hang' }));
    try {
      const response = await recorder.fetch(`${upstream.url}/v2/call/stream`, opperInit);
      const reader = response.body!.getReader();
      await reader.read();
      // No timer fired and the stream is still open: only the size sent the tick.
      await vi.waitFor(async () =>
        expect((await store.list()).tapes[0]?.byteLength).toBe(firstThree.byteLength),
      );
      await reader.cancel();
      await recorder.close();
    } finally {
      await upstream.close();
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('events that straddle flushes', () => {
  it('keep their exact bytes and data when every chunk is flushed on its own (SQLite)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'tapedeck-straddle-'));
    const store = createSqliteStore({ path: join(directory, 'tapes.sqlite') });
    const { recorder, fireTimer } = recorderWithHeldTimer(store);
    // Every 7 bytes, so every event is cut across several chunks, flushes and store segments.
    const pieces: Uint8Array[] = [];
    for (let start = 0; start < opperBytes.byteLength; start += 7) {
      pieces.push(opperBytes.subarray(start, start + 7));
    }
    const upstream = await startUpstream(() => ({ chunks: pieces }));
    try {
      const response = await recorder.fetch(`${upstream.url}/v2/call/stream`, opperInit);
      const reader = response.body!.getReader();
      const received: Uint8Array[] = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received.push(value);
        fireTimer();
        await recorder.flush();
      }
      await recorder.close();
      const [summary] = (await store.list()).tapes;
      const tape = await store.get(summary!.spanId);
      expectSameBytes(tape!.raw, opperBytes);
      expect(tape?.chunks.length).toBe(received.length);
      expect(tape?.events.map((event) => event.data)).toEqual(
        text(opperBytes)
          .split('\n\n')
          .filter(Boolean)
          .map((event) => event.slice('data: '.length)),
      );
      expect(tape?.upstreamSpanId).toBe('3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f');
    } finally {
      await upstream.close();
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

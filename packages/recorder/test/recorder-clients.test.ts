import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenRouter } from '@openrouter/sdk';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { TapeStore } from '@tapedeck/types';
import OpenAI from 'openai';
import { Opper } from 'opperai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecorder, createSqliteStore, TAPE_SPAN_ATTRIBUTE } from '../src/index.js';
import { expectSameBytes, splitAt, startUpstream } from './upstream.js';

const sample = (name: string) =>
  new Uint8Array(readFileSync(`/work/shared/formats/samples/${name}`));
const opperBytes = sample('opper-text.sse');
const responsesBytes = sample('openresponses-text.sse');
const API_KEY = 'sk-test-clients-0123456789';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('recorder-clients-test');

describe('real SDK clients under recorder.install()', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let directory: string;
  let store: TapeStore;
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(async () => {
    context.setGlobalContextManager(contextManager.enable());
    directory = mkdtempSync(join(tmpdir(), 'tapedeck-clients-'));
    store = createSqliteStore({ path: join(directory, 'tapes.sqlite') });
    upstream = await startUpstream(({ url }) => {
      const bytes = url.includes('/call/stream') ? opperBytes : responsesBytes;
      return { chunks: splitAt(bytes, [40, 41, 300, 900]) };
    });
  });
  afterAll(async () => {
    await upstream.close();
    await store.close();
    context.disable();
    rmSync(directory, { recursive: true, force: true });
  });

  /** Runs `call` bare, then inside a span with the recorder installed; returns both results. */
  async function compare<T>(call: () => Promise<T>) {
    const bare = await call();
    const errors: unknown[] = [];
    const recorder = createRecorder({ store, onError: (error) => errors.push(error) });
    recorder.install();
    let spanId = '';
    let recorded: T;
    try {
      recorded = await tracer.startActiveSpan('llm.stream', async (span) => {
        spanId = span.spanContext().spanId;
        try {
          return await call();
        } finally {
          span.end();
        }
      });
    } finally {
      recorder.uninstall();
    }
    await recorder.close();
    const exported = exporter
      .getFinishedSpans()
      .find((span) => span.spanContext().spanId === spanId);
    expect(exported?.attributes[TAPE_SPAN_ATTRIBUTE]).toBe(spanId);
    expect(errors).toEqual([]);
    return { bare, recorded: recorded!, spanId };
  }

  it('opperai opper.stream yields the same events; the tape is found by the span id and by Opper span_id', async () => {
    const opper = new Opper({ httpBearer: API_KEY, serverURL: `${upstream.url}/v2` });
    const { bare, recorded, spanId } = await compare(async () => {
      const response = await opper.stream({
        name: 'capital',
        instructions: 'answer',
        input: 'France',
      });
      const events: unknown[] = [];
      for await (const event of response.result) events.push(event);
      return events;
    });
    expect(recorded).toEqual(bare);
    expect(bare.length).toBe(8);
    const tape = await store.get(spanId);
    expect(tape).toMatchObject({ family: 'opper', outcome: 'complete', spanId });
    expectSameBytes(tape!.raw, opperBytes);
    expect(tape?.request.headers.authorization).toBe('[REDACTED]');
    const byOpper = await store.get('3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f');
    expect(byOpper?.spanId).toBe(spanId);
  });

  it('@openrouter/sdk responses.send yields the same events; the tape is found by the span id and response id', async () => {
    const openrouter = new OpenRouter({ apiKey: API_KEY, serverURL: `${upstream.url}/api/v1` });
    const { bare, recorded, spanId } = await compare(async () => {
      const stream = await openrouter.responses.send({
        responsesRequest: {
          model: 'openai/gpt-4o-mini',
          input: 'Capital of France?',
          stream: true,
        },
      });
      const events: unknown[] = [];
      for await (const event of stream as AsyncIterable<unknown>) events.push(event);
      return events;
    });
    expect(recorded).toEqual(bare);
    expect(bare.length).toBeGreaterThan(5);
    const tape = await store.get(spanId);
    expect(tape).toMatchObject({ family: 'openresponses', spanId, responseId: 'resp_01JD8Z3K4Q' });
    // The SDK cancels the body at [DONE]: a cancel after the sentinel is a complete stream.
    expect(tape?.outcome).toBe('complete');
    expect(tape?.error).toBeUndefined();
    expectSameBytes(tape!.raw, responsesBytes);
    expect((await store.get('resp_01JD8Z3K4Q'))?.spanId).toBeDefined();
  });

  it('openai responses.create({stream: true}) yields the same events; the tape is found by the span id', async () => {
    const { bare, recorded, spanId } = await compare(async () => {
      // The openai client captures fetch when it is constructed, as an app does after install().
      const openai = new OpenAI({ apiKey: API_KEY, baseURL: `${upstream.url}/v1`, maxRetries: 0 });
      const stream = await openai.responses.create({
        model: 'gpt-4o-mini',
        input: 'Capital of France?',
        stream: true,
      });
      const events: unknown[] = [];
      for await (const event of stream) events.push(event);
      return events;
    });
    expect(recorded).toEqual(bare);
    expect(bare.length).toBeGreaterThan(5);
    const tape = await store.get(spanId);
    expect(tape).toMatchObject({ family: 'openresponses', outcome: 'complete', spanId });
    expectSameBytes(tape!.raw, responsesBytes);
    expect(tape?.request.headers.authorization).toBe('[REDACTED]');
  });
});

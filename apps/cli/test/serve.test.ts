import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTape } from '../src/tape-files.js';
import {
  type RunningCli,
  runCli,
  splitEvents,
  startCli,
  tapeFromChunks,
  tempDir,
} from './helpers.js';

const dir = tempDir();
const db = join(dir.path, 'tapes.sqlite');
const requestBody = {
  model: 'openai/gpt-4o-mini',
  input: 'What is the capital of France?',
  stream: true,
};
const raw = new Uint8Array(
  readFileSync(new URL('./__fixtures__/openresponses-text.sse', import.meta.url)),
);
const tape = tapeFromChunks({
  spanId: '3c4d5e6f70819203',
  family: 'openresponses',
  chunks: splitEvents(raw),
  request: {
    method: 'POST',
    url: 'https://openrouter.ai/api/v1/responses',
    headers: { 'content-type': 'application/json', authorization: '[REDACTED]' },
    body: JSON.stringify(requestBody),
  },
});
let server: RunningCli;
let origin: string;

beforeAll(async () => {
  const file = join(dir.path, 'tape.ndjson');
  writeFileSync(file, exportTape(tape, 'ndjson')[0]!.contents);
  expect((await runCli(['import', file, '--db', db], { cwd: dir.path })).code).toBe(0);
  server = startCli(['serve', '--port', '0', '--timing', 'instant', '--db', db], { cwd: dir.path });
  origin = await server.firstLine;
});
afterAll(async () => {
  if (server?.child.exitCode === null) await server.stop();
  dir.remove();
});

describe('serve', () => {
  it('streams the tape byte for byte to a raw HTTP client reading as it arrives (curl -N)', async () => {
    const response = await fetch(`${origin}/api/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Same fields, another order: matching compares canonical JSON.
      body: JSON.stringify({ stream: true, input: requestBody.input, model: requestBody.model }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const parts: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    expect(Buffer.concat(parts).equals(Buffer.from(raw))).toBe(true);
  });

  it('replays to the real openai client', async () => {
    const client = new OpenAI({ apiKey: 'not-a-key', baseURL: `${origin}/api/v1`, maxRetries: 0 });
    const stream = await client.responses.create({
      model: requestBody.model,
      input: requestBody.input,
      stream: true,
    });
    let text = '';
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    expect(text).toBe('Paris is the capital of France.');
    expect(types.at(-1)).toBe('response.completed');
  });

  it('answers a miss with a non-2xx status and the diff message', async () => {
    const response = await fetch(`${origin}/api/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...requestBody, input: 'What is the capital of Spain?' }),
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-tapedeck-error')).toBe('NO_MATCHING_TAPE');
    const body = (await response.json()) as {
      error: { message: string; code: string; type: string };
    };
    expect(body.error.code).toBe('NO_MATCHING_TAPE');
    expect(body.error.type).toBe('tapedeck_no_matching_tape');
    expect(body.error.message).toMatch(/^\[tapedeck\] /);
    expect(body.error.message).toContain(tape.spanId);
    expect(body.error.message).toContain(
      'body.input: "What is the capital of Spain?" (request) vs "What is the capital of France?" (tape)',
    );
    const client = new OpenAI({ apiKey: 'not-a-key', baseURL: `${origin}/api/v1`, maxRetries: 0 });
    await expect(
      client.responses.create({ model: 'other-model', input: 'hi', stream: true }),
    ).rejects.toMatchObject({ status: 404 });
    expect(server.stderr()).toContain('[tapedeck]');
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await server.stop()).toBe(0);
    expect(server.stderr()).toContain('replay server stopped');
  });
});

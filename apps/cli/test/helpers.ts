import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createParser } from '@tapedeck/sse';
import { type Tape, toTapeEvent } from '@tapedeck/types';
import { z } from 'zod';

/** The built CLI. */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** What a CLI run printed and how it exited. */
export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `node dist/bin.js …args` and collects its output. */
export function runCli(
  args: string[],
  {
    cwd,
    env = {},
    timeoutMs = 30_000,
  }: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', TAPEDECK_DB: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tapedeck ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout), stderr });
    });
  });
}

/** A fresh temp directory, removed by the returned function. */
export function tempDir(prefix = 'tapedeck-cli-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const encoder = new TextEncoder();

/** A hand-built, valid Opper tape with three network chunks. */
export function opperTape({
  spanId = '1a2b3c4d5e6f7081',
  startedAt = Date.now(),
  words = ['The', ' capital', ' is', ' Paris', '.'],
}: {
  spanId?: string;
  startedAt?: number;
  words?: string[];
} = {}): Tape {
  const texts = [
    'data: {"span_id":"3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f"}\n\n',
    ...words.map((delta) => `data: ${JSON.stringify({ delta, chunk_type: 'text' })}\n\n`),
  ];
  const raw = encoder.encode(texts.join(''));
  let byteStart = 0;
  const events = texts.map((text, index) => {
    const byteLength = encoder.encode(text).byteLength;
    const event = {
      index,
      offsetMs: 20 + index * 5,
      byteStart,
      byteEnd: byteStart + byteLength,
      type: 'message',
      id: '',
      data: text.slice('data: '.length, -2),
    };
    byteStart += byteLength;
    return event;
  });
  return {
    schemaVersion: 1,
    spanId,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    upstreamSpanId: '3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f',
    family: 'opper',
    model: 'demo-model',
    request: {
      method: 'POST',
      url: 'https://api.opper.ai/v2/call/stream',
      headers: { 'content-type': 'application/json', authorization: '[REDACTED]' },
      body: '{"name":"demo"}',
    },
    requestHash: 'hash',
    response: { status: 200, statusText: 'OK', headers: { 'content-type': 'text/event-stream' } },
    startedAt,
    durationMs: 20 + texts.length * 5,
    outcome: 'complete',
    eventCount: events.length,
    byteLength: raw.byteLength,
    firstEventMs: 20,
    raw,
    // One chunk per event: each chunk arrives with the event it completes.
    chunks: events.map((event) => ({
      offsetMs: event.offsetMs,
      byteLength: event.byteEnd - event.byteStart,
    })),
    events,
  };
}

/** A CLI process that keeps running (proxy, serve) and the first line it printed on stdout. */
export interface RunningCli {
  child: ChildProcess;
  firstLine: Promise<string>;
  stderr(): string;
  /** Sends SIGTERM and resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node dist/bin.js …args` in the background. */
export function startCli(
  args: string[],
  { cwd, env = {} }: { cwd: string; env?: Record<string, string> },
): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', TAPEDECK_DB: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  const firstLine = new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve(stdout.slice(0, newline));
    });
    void exited.then((code) =>
      reject(new Error(`tapedeck ${args[0]} exited with ${code}: ${stderr}`)),
    );
  });
  return {
    child,
    firstLine,
    stderr: () => stderr,
    stop: (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}

/**
 * Builds a complete tape from raw SSE bytes split into chunks, with event byte ranges from
 * @tapedeck/sse's parser and `stepMs` between chunks.
 */
export function tapeFromChunks({
  spanId,
  family,
  chunks,
  request,
  stepMs = 5,
  startedAt = Date.now(),
}: {
  spanId: string;
  family: Tape['family'];
  chunks: Uint8Array[];
  request: Tape['request'];
  stepMs?: number;
  startedAt?: number;
}): Tape {
  const events: Tape['events'] = [];
  let chunkIndex = 0;
  const parser = createParser({
    onEvent: (event) => {
      events.push(toTapeEvent(event, (chunkIndex + 1) * stepMs));
    },
  });
  for (const chunk of chunks) {
    parser.feed(chunk);
    chunkIndex += 1;
  }
  parser.end();
  const raw = new Uint8Array(Buffer.concat(chunks));
  return {
    schemaVersion: 1,
    spanId,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    family,
    request,
    requestHash: 'unused-by-the-matcher',
    response: {
      status: 200,
      statusText: 'OK',
      headers: { 'content-type': 'text/event-stream; charset=utf-8' },
    },
    startedAt,
    durationMs: chunks.length * stepMs,
    outcome: 'complete',
    eventCount: events.length,
    byteLength: raw.byteLength,
    firstEventMs: events[0]?.offsetMs,
    raw,
    chunks: chunks.map((chunk, index) => ({
      offsetMs: (index + 1) * stepMs,
      byteLength: chunk.byteLength,
    })),
    events,
  };
}

/** Splits bytes after every blank line (`\n\n`), one network chunk per event. */
export function splitEvents(raw: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (let index = 1; index < raw.byteLength; index++) {
    if (raw[index] === 10 && raw[index - 1] === 10) {
      chunks.push(raw.subarray(start, index + 1));
      start = index + 1;
    }
  }
  if (start < raw.byteLength) chunks.push(raw.subarray(start));
  return chunks;
}

const nameValue = z.array(z.object({ name: z.string(), value: z.string() }));
/** The fields HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) requires. */
export const harSchema = z.object({
  log: z.object({
    version: z.literal('1.2'),
    creator: z.object({ name: z.string(), version: z.string() }),
    entries: z.array(
      z.object({
        startedDateTime: z.iso.datetime({ offset: true }),
        time: z.number().nonnegative(),
        request: z.object({
          method: z.string(),
          url: z.url(),
          httpVersion: z.string(),
          cookies: z.array(z.unknown()),
          headers: nameValue,
          queryString: nameValue,
          postData: z.object({ mimeType: z.string(), text: z.string() }).optional(),
          headersSize: z.number().int(),
          bodySize: z.number().int(),
        }),
        response: z.object({
          status: z.number().int(),
          statusText: z.string(),
          httpVersion: z.string(),
          cookies: z.array(z.unknown()),
          headers: nameValue,
          content: z.object({
            size: z.number().int(),
            mimeType: z.string(),
            text: z.string().optional(),
          }),
          redirectURL: z.string(),
          headersSize: z.number().int(),
          bodySize: z.number().int(),
        }),
        cache: z.object({}),
        timings: z.object({
          send: z.number().min(-1),
          wait: z.number().min(-1),
          receive: z.number().min(-1),
        }),
      }),
    ),
  }),
});

/** Resolves once `check()` is true, polling; fails with `what` after `timeoutMs`. */
export async function waitFor(
  check: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

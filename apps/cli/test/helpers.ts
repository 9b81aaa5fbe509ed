import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tape } from '@tapedeck/types';

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

import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Opper } from 'opperai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback } from '../src/loopback.js';
import {
  harSchema,
  type RunningCli,
  runCli,
  splitEvents,
  startCli,
  tempDir,
  waitFor,
} from './helpers.js';

const dir = tempDir();
const db = join(dir.path, 'tapes.sqlite');
const fixture = readFileSync(new URL('./__fixtures__/opper-text.sse', import.meta.url));
const SECRET = 'sk-proxy-test-secret-0123456789';
let upstream: Server;
let upstreamOrigin: string;
let proxy: RunningCli;
let origin: string;
let releaseStall: (() => void) | undefined;

const json = async (args: string[]) => {
  const result = await runCli(args, { cwd: dir.path });
  expect(result.stderr).not.toMatch(/\[tapedeck\].*(failed|cannot|no tape)/);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout.toString());
};

beforeAll(async () => {
  // The upstream streams the fixture one event per network chunk, or stalls after one event.
  upstream = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunks = splitEvents(new Uint8Array(fixture));
    if (request.url === '/v2/stall/call/stream') {
      response.write(chunks[0]);
      releaseStall = () => response.destroy();
      return;
    }
    let index = 0;
    const next = () => {
      if (index === chunks.length) {
        response.end();
        return;
      }
      response.write(chunks[index++]);
      setTimeout(next, 2);
    };
    next();
  });
  upstreamOrigin = await listenOnLoopback(upstream, 0);
  proxy = startCli(
    // Port 9 (discard) on loopback: no collector answers, so spans stay local.
    [
      'proxy',
      '--upstream',
      upstreamOrigin,
      '--port',
      '0',
      '--db',
      db,
      '--endpoint',
      'http://127.0.0.1:9',
    ],
    { cwd: dir.path },
  );
  origin = await proxy.firstLine;
});
afterAll(async () => {
  releaseStall?.();
  if (proxy?.child.exitCode === null) await proxy.stop();
  await new Promise((resolve) => upstream.close(resolve));
  dir.remove();
});

describe('proxy', () => {
  let spanId: string;

  it('passes a real opperai stream through and records it byte for byte', async () => {
    const opper = new Opper({ httpBearer: SECRET, serverURL: `${origin}/v2` });
    const { result } = await opper.stream({
      name: 'capital',
      instructions: 'Answer.',
      input: 'France',
    });
    let text = '';
    let upstreamSpanId: string | undefined;
    for await (const event of result) {
      upstreamSpanId ??= event.data?.spanId ?? undefined;
      if (typeof event.data?.delta === 'string') text += event.data.delta;
    }
    expect(text).toBe('The capital of France is Paris.');
    expect(upstreamSpanId).toBe('3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f');

    await waitFor(() => /opper complete 8 events/.test(proxy.stderr()), 'the proxy log line');
    const line = proxy
      .stderr()
      .split('\n')
      .find((entry) => entry.includes('opper complete'))!;
    expect(line).toMatch(
      /^\[tapedeck\] [0-9a-f]{16} POST \/v2\/call\/stream opper complete 8 events TTFT \d+ ms http:\/\/localhost:16686\/trace\/[0-9a-f]{32}\?uiFind=[0-9a-f]{16}$/,
    );

    const listed = await json(['ls', '--json', '--db', db]);
    expect(listed).toHaveLength(1);
    spanId = listed[0].spanId;
    expect(line).toContain(spanId);
    const shown = await json(['show', spanId, '--json', '--db', db]);
    expect(Buffer.from(shown.rawBase64, 'base64').equals(fixture)).toBe(true);
    expect(shown).toMatchObject({
      family: 'opper',
      outcome: 'complete',
      upstreamSpanId: '3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f',
      request: { method: 'POST', url: `${upstreamOrigin}/v2/call/stream` },
    });
    expect(shown.output.text).toBe('The capital of France is Paris.');
    // The upstream wrote one event per chunk; the tape keeps the byte ranges.
    expect(shown.events.map((event: { byteEnd: number }) => event.byteEnd).at(-1)).toBe(
      fixture.byteLength,
    );
    // The credential was redacted before it reached the database file.
    expect(shown.request.headers.authorization).not.toContain(SECRET);
    const files = readdirSync(dir.path).filter((name) => name.startsWith('tapes.sqlite'));
    for (const name of files)
      expect(readFileSync(join(dir.path, name)).includes(SECRET)).toBe(false);
  });

  it('plays the recorded bytes back exactly', async () => {
    const played = await runCli(['play', spanId, '--timing', 'instant', '--db', db], {
      cwd: dir.path,
    });
    expect(played.code).toBe(0);
    expect(played.stdout.equals(fixture)).toBe(true);
  });

  it('exports and imports into a fresh database with identical bytes and offsets', async () => {
    const before = await json(['show', spanId, '--json', '--db', db]);
    for (const format of ['ndjson', 'sse', 'har']) {
      const out = join(dir.path, `export-${format}`);
      await json(['export', spanId, '--format', format, '--out', out, '--json', '--db', db]);
      const fresh = join(dir.path, `fresh-${format}.sqlite`);
      const files = readdirSync(out).map((name) => join(out, name));
      await json(['import', ...files, '--json', '--db', fresh]);
      const after = await json(['show', spanId, '--json', '--db', fresh]);
      expect(after).toEqual(before);
      if (format === 'har') {
        const har = JSON.parse(readFileSync(join(out, `${spanId}.har`), 'utf8'));
        expect(harSchema.safeParse(har).error?.issues ?? []).toEqual([]);
      }
    }
  });

  it('flushes the open tape on SIGTERM and exits 0', async () => {
    const response = await fetch(`${origin}/v2/stall/call/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: '{"name":"stall"}',
    });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(
      Buffer.from(first.value!).equals(Buffer.from(splitEvents(new Uint8Array(fixture))[0]!)),
    ).toBe(true);
    expect(await proxy.stop('SIGTERM')).toBe(0);
    await reader.read().catch(() => undefined);
    expect(proxy.stderr()).toContain('proxy stopped: ');
    const [stalled] = await json(['ls', '--url', 'stall', '--json', '--db', db]);
    expect(stalled.outcome).toMatch(/^(incomplete|aborted)$/);
    const shown = await json(['show', stalled.spanId, '--json', '--db', db]);
    expect(Buffer.from(shown.rawBase64, 'base64').equals(Buffer.from(first.value!))).toBe(true);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '@tapedeck/recorder';
import type { TapeStore } from '@tapedeck/types';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createReplayHandlers, resolveMode } from '../src/index.js';
import type { ReplayOptions } from '../src/types.js';
import { readFixture, startUpstream } from './helpers.js';
import { consume } from './sdk-clients.js';

let upstream: Awaited<ReturnType<typeof startUpstream>>;
let upstreamRequests = 0;
let directory: string;
let store: TapeStore;

beforeAll(async () => {
  upstream = await startUpstream(() => {
    upstreamRequests += 1;
    return { raw: readFixture('opper-text.sse'), chunkBytes: [30, 70, 5] };
  });
  directory = mkdtempSync(join(tmpdir(), 'tapedeck-replayer-'));
});
afterAll(async () => {
  await upstream.close();
  rmSync(directory, { recursive: true, force: true });
});

let server: ReturnType<typeof setupServer> | undefined;
afterEach(async () => {
  server?.close();
  server = undefined;
  await store?.close();
  vi.restoreAllMocks();
});

function listen(options: Omit<ReplayOptions, 'store'>) {
  server = setupServer(...createReplayHandlers({ store, ...options }));
  server.listen({ onUnhandledRequest: 'error' });
}

describe('modes', () => {
  it('record saves the live stream to SQLite; replay then serves it without the upstream', async () => {
    store = createSqliteStore({ path: join(directory, 'record.sqlite') });
    listen({ mode: 'record' });
    const live = await consume('opper', upstream.origin);
    expect(upstreamRequests).toBe(1);
    server!.close();
    const { tapes } = await store.list();
    expect(tapes).toHaveLength(1);
    expect(tapes[0]!.request.headers.authorization).not.toContain('test-key');

    const before = upstreamRequests;
    listen({ mode: 'replay' });
    const replayed = await consume('opper', upstream.origin);
    expect(replayed).toEqual(live);
    expect(upstreamRequests).toBe(before);
  });

  it('auto records a miss once, then replays it', async () => {
    store = createSqliteStore({ path: join(directory, 'auto.sqlite') });
    listen({ mode: 'auto' });
    const before = upstreamRequests;
    const first = await consume('opper', upstream.origin);
    const second = await consume('opper', upstream.origin);
    expect(second).toEqual(first);
    expect(upstreamRequests).toBe(before + 1);
    expect((await store.list()).tapes).toHaveLength(1);
  });

  it('passthrough sends everything to the upstream', async () => {
    store = createSqliteStore({ path: join(directory, 'passthrough.sqlite') });
    listen({ mode: 'passthrough' });
    const before = upstreamRequests;
    const result = await consume('opper', upstream.origin);
    expect(result.events).toHaveLength(8);
    expect(upstreamRequests).toBe(before + 1);
    expect((await store.list()).tapes).toHaveLength(0);
  });

  it('defaults from TAPEDECK_MODE, and to replay under CI', () => {
    expect(resolveMode(undefined, {})).toBe('replay');
    expect(resolveMode(undefined, { TAPEDECK_MODE: 'auto' })).toBe('auto');
    expect(resolveMode(undefined, { TAPEDECK_MODE: 'record', CI: 'true' })).toBe('replay');
    expect(resolveMode(undefined, { TAPEDECK_MODE: 'passthrough', CI: 'true' })).toBe(
      'passthrough',
    );
    expect(resolveMode('record', { CI: 'true' })).toBe('record');
    expect(() => resolveMode(undefined, { TAPEDECK_MODE: 'recrod' })).toThrow(
      '[tapedeck] mode "recrod" (from TAPEDECK_MODE) is not one of replay, record, auto, passthrough',
    );
  });
});

describe('unmatched requests', () => {
  it("'error' answers 404 with the diff, which the SDK shows in its own error", async () => {
    store = createSqliteStore({ path: join(directory, 'miss.sqlite') });
    listen({ mode: 'record' });
    await consume('openai-responses', upstream.origin);
    server!.close();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    listen({ mode: 'replay' });
    const before = upstreamRequests;
    const result = await consume('opper', upstream.origin);
    expect(upstreamRequests).toBe(before);
    expect(result.error?.status).toBe(404);
    const logged = String(errors.mock.calls[0]?.[0]);
    expect(logged).toContain(`[tapedeck] No tape matches POST ${upstream.origin}/v2/call/stream.`);
    expect(logged).toContain('body.name: "capital" (request) vs absent (tape)');
    expect(logged).toContain('re-record');
  });

  it("'bypass' lets the request through to the real upstream", async () => {
    store = createSqliteStore({ path: join(directory, 'bypass.sqlite') });
    listen({ onUnmatched: 'bypass' });
    const before = upstreamRequests;
    const result = await consume('opper', upstream.origin);
    expect(result.error).toBeUndefined();
    expect(result.events).toHaveLength(8);
    expect(upstreamRequests).toBe(before + 1);
  });

  it("'warn' logs the diff and lets the request through", async () => {
    store = createSqliteStore({ path: join(directory, 'warn.sqlite') });
    const warnings = vi.spyOn(console, 'warn').mockImplementation(() => {});
    listen({ onUnmatched: 'warn' });
    const result = await consume('opper', upstream.origin);
    expect(result.events).toHaveLength(8);
    expect(String(warnings.mock.calls[0]?.[0])).toContain('The store has no tapes');
  });

  it('a function receives the miss and may answer', async () => {
    store = createSqliteStore({ path: join(directory, 'function.sqlite') });
    const seen: string[] = [];
    listen({
      onUnmatched: (miss) => {
        seen.push(miss.message);
        return new Response('{"error":{"message":"custom"}}', { status: 418 });
      },
    });
    const result = await consume('openai-responses', upstream.origin);
    expect(result.error?.status).toBe(418);
    expect(seen[0]).toContain('[tapedeck] No tape matches POST');
  });

  it('filter leaves other requests to the rest of the MSW setup', async () => {
    store = createSqliteStore({ path: join(directory, 'filter.sqlite') });
    server = setupServer(
      ...createReplayHandlers({
        store,
        filter: (request) => new URL(request.url).hostname !== '127.0.0.1',
      }),
    );
    server.listen({ onUnhandledRequest: 'bypass' });
    const before = upstreamRequests;
    const result = await consume('opper', upstream.origin);
    expect(result.events).toHaveLength(8);
    expect(upstreamRequests).toBe(before + 1);
  });
});

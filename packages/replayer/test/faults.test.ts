import type { StreamFamily } from '@tapedeck/types';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createReplayHandlers } from '../src/index.js';
import type { ReplayFaults } from '../src/types.js';
import { buildTape, createArrayStore, parseEvents, readFixture, startUpstream } from './helpers.js';
import { type ClientKind, consume, requestFor } from './sdk-clients.js';

const clients: Array<{ kind: ClientKind; fixture: string; family: StreamFamily }> = [
  { kind: 'opper', fixture: 'opper-text.sse', family: 'opper' },
  { kind: 'openrouter-responses', fixture: 'openresponses-text.sse', family: 'openresponses' },
  { kind: 'openrouter-chat', fixture: 'openrouter-chat.sse', family: 'chat-completions' },
  { kind: 'openai-responses', fixture: 'openresponses-text.sse', family: 'openresponses' },
];

/** How the real upstream misbehaves for the live side of a comparison. */
let behaviour:
  | { type: 'cut'; fixture: string; afterEvents: number }
  | { type: 'status'; status: number; body: string }
  | { type: 'ok'; fixture: string } = { type: 'ok', fixture: 'opper-text.sse' };

let upstream: Awaited<ReturnType<typeof startUpstream>>;
beforeAll(async () => {
  upstream = await startUpstream(() => ({ raw: new Uint8Array() }));
  // Replace the default listener with one that can misbehave like a real server.
  upstream.server.removeAllListeners('request');
  upstream.server.on('request', (request, response) => {
    request.resume();
    request.on('end', () => {
      if (behaviour.type === 'status') {
        response.writeHead(behaviour.status, {
          'content-type': 'application/json',
          'retry-after': '0',
        });
        response.end(behaviour.body);
        return;
      }
      const raw = readFixture(behaviour.fixture);
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      if (behaviour.type === 'ok') {
        response.end(raw);
        return;
      }
      const end = parseEvents(raw)[behaviour.afterEvents - 1]!.byteEnd;
      response.write(raw.subarray(0, end), () => {
        // Give the client the bytes, then drop the connection without a proper end.
        setImmediate(() => response.socket?.destroy());
      });
    });
  });
});
afterAll(() => upstream.close());

let server: ReturnType<typeof setupServer> | undefined;
let requests = 0;
afterEach(() => {
  server?.close();
  server = undefined;
});

function replay(kind: ClientKind, fixture: string, family: StreamFamily, faults: ReplayFaults) {
  const { url, body } = requestFor(kind, upstream.origin);
  const raw = readFixture(fixture);
  const tape = buildTape({ raw, family, url, body: JSON.stringify(body), chunkBytes: [20, 200] });
  server = setupServer(...createReplayHandlers({ store: createArrayStore([tape]), faults }));
  requests = 0;
  server.events.on('request:start', () => {
    requests += 1;
  });
  server.listen({ onUnhandledRequest: 'error' });
  return tape;
}

describe.each(clients)('faults seen by $kind', ({ kind, fixture, family }) => {
  it('a cut after N events looks like a real dropped connection', async () => {
    behaviour = { type: 'cut', fixture, afterEvents: 2 };
    const live = await consume(kind, upstream.origin);
    expect(live.error).toBeDefined();
    replay(kind, fixture, family, { type: 'cut', afterEvents: 2 });
    const replayed = await consume(kind, upstream.origin);
    expect(replayed).toEqual(live);
  });

  it('a cut after K bytes ends mid-event: the partial event is not delivered', async () => {
    const events = parseEvents(readFixture(fixture));
    replay(kind, fixture, family, { type: 'cut', afterBytes: events[1]!.byteEnd + 5 });
    const replayed = await consume(kind, upstream.origin);
    expect(replayed.error).toMatchObject({ name: 'TypeError', message: 'terminated' });
  });

  it.each([429, 500])(
    'status %i raises the SDK’s own error, as from a real server',
    async (status) => {
      replay(kind, fixture, family, { type: 'status', status });
      const replayed = await consume(kind, upstream.origin);
      expect(replayed.error?.status).toBe(status);
      // The live server answers with the same status: the SDK must throw the same error type.
      behaviour = {
        type: 'status',
        status,
        body: JSON.stringify({ error: { message: 'x', code: status } }),
      };
      server?.close();
      const live = await consume(kind, upstream.origin);
      expect(replayed.error?.name).toBe(live.error?.name);
      expect(replayed.events).toEqual(live.events);
    },
  );

  it('sequence [500, ok]: the SDK’s retry gets the tape', async () => {
    behaviour = { type: 'ok', fixture };
    const expected = await consume(kind, upstream.origin);
    replay(kind, fixture, family, {
      sequence: [{ type: 'status', status: 500, retryAfterSeconds: 0 }, 'ok'],
    });
    const replayed = await consume(kind, upstream.origin, { retries: true });
    expect(replayed).toEqual(expected);
    expect(requests).toBe(2);
  });
});

describe('family error events', () => {
  it('opper: chunk_type error', async () => {
    replay('opper', 'opper-text.sse', 'opper', {
      type: 'error-event',
      afterEvents: 2,
      code: 'ModelError',
      message: 'boom',
    });
    const result = await consume('opper', upstream.origin);
    expect(result.events).toHaveLength(3);
    expect(result.events[2]).toEqual({
      data: { chunkType: 'error', errorType: 'ModelError', errorMessage: 'boom' },
    });
  });

  it('OpenResponses through @openrouter/sdk: an error event', async () => {
    replay('openrouter-responses', 'openresponses-text.sse', 'openresponses', {
      type: 'error-event',
      afterEvents: 3,
      code: 'rate_limit_exceeded',
      message: 'slow down',
    });
    const result = await consume('openrouter-responses', upstream.origin);
    expect(result.events).toHaveLength(4);
    expect(result.events[3]).toMatchObject({
      type: 'error',
      code: 'rate_limit_exceeded',
      message: 'slow down',
      sequenceNumber: 3,
    });
  });

  it('OpenResponses through openai: response.failed carries the error', async () => {
    replay('openai-responses', 'openresponses-text.sse', 'openresponses', {
      type: 'error-event',
      afterEvents: 4,
      as: 'response.failed',
      code: 'server_error',
      message: 'model crashed',
    });
    const result = await consume('openai-responses', upstream.origin);
    const last = result.events.at(-1) as {
      type: string;
      response: { status: string; error: unknown };
    };
    expect(last.type).toBe('response.failed');
    expect(last.response.status).toBe('failed');
    expect(last.response.error).toEqual({ code: 'server_error', message: 'model crashed' });
  });

  it('chat completions through @openrouter/sdk: the stream error surfaces', async () => {
    replay('openrouter-chat', 'openrouter-chat.sse', 'chat-completions', {
      type: 'error-event',
      afterEvents: 1,
      message: 'provider overloaded',
    });
    const result = await consume('openrouter-chat', upstream.origin);
    expect(result.events.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(result)).toContain('provider overloaded');
    // The one recorded chunk, then OpenRouter's error chunk (no code given: 502).
    expect(result.events).toHaveLength(2);
    expect(result.error).toBeUndefined();
    expect(result.events[1]).toMatchObject({
      id: 'gen-1763700000-abc',
      error: { code: 502, message: 'provider overloaded' },
      choices: [{ delta: { content: '' }, finishReason: 'error', index: 0 }],
    });
  });
});

describe('stalls and first-byte delay, with an injected clock', () => {
  it('openai sees every event; the replay waited exactly where the faults said', async () => {
    const { url, body } = requestFor('openai-responses', upstream.origin);
    const raw = readFixture('openresponses-text.sse');
    const tape = buildTape({ raw, family: 'openresponses', url, body: JSON.stringify(body) });
    let nowMs = 0;
    const waits: Array<{ atMs: number; waitMs: number }> = [];
    const delay = async (waitMs: number) => {
      waits.push({ atMs: nowMs, waitMs });
      nowMs += waitMs;
    };
    server = setupServer(
      ...createReplayHandlers({
        store: createArrayStore([tape]),
        chunking: 'event',
        faults: [
          { type: 'first-byte-delay', delayMs: 250 },
          { type: 'stall', afterEvents: 4, durationMs: 1_000 },
        ],
        _internal: { now: () => nowMs, delay },
      }),
    );
    server.listen({ onUnhandledRequest: 'error' });
    behaviour = { type: 'ok', fixture: 'openresponses-text.sse' };
    const replayed = await consume('openai-responses', upstream.origin);
    server.close();
    const live = await consume('openai-responses', upstream.origin);
    expect(replayed).toEqual(live);
    expect(waits).toEqual([
      { atMs: 0, waitMs: 250 },
      { atMs: 250, waitMs: 1_000 },
    ]);
  });
});

import { getResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { createReplayHandlers } from '../src/index.js';
import { buildTape, concat, createArrayStore, readChunks, readFixture } from './helpers.js';

// What `tapedeck serve` does: a plain server that asks the handlers for a response.
describe('handlers outside setupServer (msw getResponse)', () => {
  const url = 'http://llm.test/v1/responses';
  const body = JSON.stringify({ model: 'm', input: 'hi', stream: true });
  const tape = buildTape({
    raw: readFixture('openresponses-text.sse'),
    family: 'openresponses',
    url,
    body,
    chunkBytes: [64, 64],
  });
  const handlers = createReplayHandlers({ store: createArrayStore([tape]), chunking: 'event' });

  it('answers a matched request with the tape, byte for byte', async () => {
    const response = await getResponse(handlers, new Request(url, { method: 'POST', body }));
    expect(response?.status).toBe(200);
    expect(response?.headers.get('content-type')).toBe('text/event-stream');
    const chunks = await readChunks(response!.body!);
    expect(chunks).toHaveLength(tape.events.length);
    expect(concat(chunks)).toEqual(tape.raw);
  });

  it('answers an unmatched request with 404 and the same [tapedeck] message', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const response = await getResponse(
      handlers,
      new Request(url, {
        method: 'POST',
        body: JSON.stringify({ model: 'm', input: 'bye', stream: true }),
      }),
    );
    expect(response?.status).toBe(404);
    const { error } = (await response!.json()) as { error: { message: string; code: string } };
    expect(error.code).toBe('NO_MATCHING_TAPE');
    expect(error.message).toContain('body.input: "bye" (request) vs "hi" (tape)');
    vi.restoreAllMocks();
  });

  it("marks a request it lets through with MSW's passthrough answer", async () => {
    const bypassing = createReplayHandlers({ store: createArrayStore([]), onUnmatched: 'bypass' });
    const response = await getResponse(bypassing, new Request(url, { method: 'POST', body }));
    expect(response?.headers.get('x-msw-intention')).toBe('passthrough');
  });

  it('replays a recorded HTTP error with its status, headers and body', async () => {
    const errorBody = '{"error":{"message":"Rate limit reached","code":429}}';
    const recorded = buildTape({
      raw: new TextEncoder().encode(errorBody),
      family: 'openresponses',
      url,
      body,
      status: 429,
      headers: { 'content-type': 'application/json', 'retry-after': '7', 'content-length': '999' },
    });
    const errors = createReplayHandlers({ store: createArrayStore([recorded]) });
    const response = await getResponse(errors, new Request(url, { method: 'POST', body }));
    expect(response?.status).toBe(429);
    expect(response?.headers.get('retry-after')).toBe('7');
    // The recorded length described the recorded transfer, not this one.
    expect(response?.headers.get('content-length')).toBeNull();
    expect(await response?.text()).toBe(errorBody);
  });
});

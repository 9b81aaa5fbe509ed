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
});

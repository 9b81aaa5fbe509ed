import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  StreamFamily,
  Tape,
  TapeEvent,
  TapeListQuery,
  TapeStore,
  TapeSummary,
} from '@tapedeck/types';

/** The raw bytes of a fixture under test/__fixtures__. */
export function readFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));
}

/**
 * Splits SSE bytes into dispatched events with byte ranges (WHATWG rules for line ends and
 * fields; enough for fixtures). byteStart is where the event's block began.
 */
export function parseEvents(raw: Uint8Array, offsetsOfEnds?: (byteEnd: number) => number) {
  const text = new TextDecoder().decode(raw);
  const events: TapeEvent[] = [];
  let position = 0;
  let blockStart = 0;
  let data: string[] = [];
  let type = '';
  let id = '';
  const bytes = (index: number) => new TextEncoder().encode(text.slice(0, index)).length;
  while (position < text.length) {
    let lineEnd = position;
    while (lineEnd < text.length && text[lineEnd] !== '\n' && text[lineEnd] !== '\r') lineEnd += 1;
    if (lineEnd >= text.length) break; // an unterminated last line is never dispatched
    const line = text.slice(position, lineEnd);
    let next = lineEnd + 1;
    if (text[lineEnd] === '\r' && text[lineEnd + 1] === '\n') next += 1;
    if (line === '') {
      if (data.length > 0) {
        const byteEnd = bytes(next);
        events.push({
          index: events.length,
          offsetMs: offsetsOfEnds ? offsetsOfEnds(byteEnd) : 0,
          byteStart: bytes(blockStart),
          byteEnd,
          type: type || 'message',
          id,
          data: data.join('\n'),
        });
      }
      data = [];
      type = '';
      blockStart = next;
    } else if (!line.startsWith(':')) {
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') type = value;
      else if (field === 'id') id = value;
    }
    position = next;
  }
  return events;
}

let spanCounter = 1;

/** A fresh 16-hex-digit span id. */
export function nextSpanId(): string {
  const value = spanCounter++;
  return value.toString(16).padStart(16, '0');
}

/** Builds a tape by hand: `chunkBytes` sizes cut `raw` (the rest is one chunk), `gapMs` apart. */
export function buildTape({
  raw,
  family,
  url,
  body = null,
  method = 'POST',
  chunkBytes,
  gapMs = 0,
  offsetsMs,
  status = 200,
  headers = { 'content-type': 'text/event-stream' },
  spanId = nextSpanId(),
  startedAt = 1_763_700_000_000,
}: {
  raw: Uint8Array;
  family: StreamFamily;
  url: string;
  body?: string | null;
  method?: string;
  chunkBytes?: number[];
  gapMs?: number;
  /** Arrival offset of each chunk (overrides gapMs). */
  offsetsMs?: number[];
  status?: number;
  headers?: Record<string, string>;
  spanId?: string;
  startedAt?: number;
}): Tape {
  const chunks: Tape['chunks'] = [];
  let used = 0;
  for (const size of chunkBytes ?? []) {
    if (used >= raw.length) break;
    const byteLength = Math.min(size, raw.length - used);
    chunks.push({
      offsetMs: offsetsMs?.[chunks.length] ?? gapMs * (chunks.length + 1),
      byteLength,
    });
    used += byteLength;
  }
  if (used < raw.length) {
    chunks.push({
      offsetMs: offsetsMs?.[chunks.length] ?? gapMs * (chunks.length + 1),
      byteLength: raw.length - used,
    });
  }
  const ends: number[] = [];
  let position = 0;
  for (const chunk of chunks) {
    position += chunk.byteLength;
    ends.push(position);
  }
  const arrival = (byteEnd: number) => {
    const index = ends.findIndex((end) => end >= byteEnd);
    return chunks[index === -1 ? chunks.length - 1 : index]?.offsetMs ?? 0;
  };
  const events = parseEvents(raw, arrival);
  return {
    schemaVersion: 1,
    spanId,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    family,
    request: { method, url, headers: { 'content-type': 'application/json' }, body },
    requestHash: 'unused-by-replayer',
    response: { status, statusText: status === 200 ? 'OK' : '', headers },
    startedAt,
    durationMs: chunks[chunks.length - 1]?.offsetMs ?? 0,
    outcome: 'complete',
    eventCount: events.length,
    byteLength: raw.length,
    firstEventMs: events[0]?.offsetMs,
    raw: Uint8Array.from(raw),
    chunks,
    events,
  };
}

/** A TapeStore over an array, with the semantics the replayer relies on (list, get). */
export function createArrayStore(initial: Tape[] = []): TapeStore & { gets: number } {
  const tapes = [...initial];
  const summary = (tape: Tape): TapeSummary => {
    const { raw: _raw, chunks: _chunks, events: _events, ...rest } = tape;
    return rest;
  };
  const store = {
    gets: 0,
    async put(tape: Parameters<TapeStore['put']>[0]) {
      tapes.push(tape as Tape);
    },
    async append() {},
    async finish() {},
    async get(id: string) {
      store.gets += 1;
      return tapes.find(
        (tape) => tape.spanId === id || tape.upstreamSpanId === id || tape.responseId === id,
      );
    },
    async list(query: TapeListQuery = {}) {
      const sorted = [...tapes].sort((a, b) =>
        query.order === 'asc' ? a.startedAt - b.startedAt : b.startedAt - a.startedAt,
      );
      const start = query.cursor ? Number(query.cursor) : 0;
      const limit = query.limit ?? 100;
      const page = sorted.slice(start, start + limit).map(summary);
      const next = start + limit < sorted.length ? String(start + limit) : undefined;
      return next ? { tapes: page, nextCursor: next } : { tapes: page };
    },
    async delete() {
      return false;
    },
    async prune() {
      return 0;
    },
    async stats() {
      return { tapes: tapes.length, events: 0, bytes: 0, byOutcome: {}, byFamily: {} };
    },
    async close() {},
  };
  return store;
}

/** A real upstream on 127.0.0.1 that writes `raw` in the given chunks, flushing each. */
export async function startUpstream(
  respond: (request: { url: string; body: string }) => {
    raw: Uint8Array;
    chunkBytes?: number[];
    status?: number;
  },
): Promise<{ origin: string; server: Server; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', async () => {
      const {
        raw,
        chunkBytes = [],
        status = 200,
      } = respond({
        url: request.url ?? '/',
        body: Buffer.concat(parts).toString('utf8'),
      });
      response.writeHead(status, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
      });
      let used = 0;
      for (const size of chunkBytes) {
        if (used >= raw.length) break;
        response.write(raw.subarray(used, used + size));
        used += size;
        // Let each write leave as its own TCP segment.
        await new Promise((resolve) => setImmediate(resolve));
      }
      response.end(raw.subarray(Math.min(used, raw.length)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a whole body, returning its chunks. */
export async function readChunks(body: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return chunks;
}

/** Concatenates byte arrays. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

import type {
  Tape,
  TapeAppend,
  TapeFinish,
  TapeHead,
  TapeListQuery,
  TapeStore,
  TapeStoreStats,
  TapeSummary,
} from '@tapedeck/types';
import { TapedeckError, toTapeEvent } from '@tapedeck/types';

interface Entry {
  order: number;
  summary: TapeSummary;
  parts: Uint8Array[];
  chunks: Tape['chunks'];
  events: Tape['events'];
}

function notFound(operation: string, spanId: string) {
  return new TapedeckError({
    code: 'TAPE_NOT_FOUND',
    message: `${operation}: no tape with spanId ${spanId}; call put first`,
    context: { tapeId: spanId },
  });
}

function concat(parts: Uint8Array[], byteLength: number): Uint8Array<ArrayBuffer> {
  const raw = new Uint8Array(byteLength);
  let offset = 0;
  for (const part of parts) {
    raw.set(part, offset);
    offset += part.byteLength;
  }
  return raw;
}

function encodeCursor(startedAt: number, order: number) {
  return Buffer.from(JSON.stringify([startedAt, order])).toString('base64url');
}

function decodeCursor(cursor: string): [number, number] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'number') {
      return [value[0], value[1]];
    }
  } catch {}
  throw new TapedeckError({
    code: 'INVALID_ARGUMENT',
    message: `list: cursor ${JSON.stringify(cursor)} is not a cursor from a previous page`,
  });
}

/**
 * A {@link TapeStore} in memory, with the same behaviour as the SQLite store: for tests and
 * short-lived tools. Every value going in or out is copied, so callers cannot alias its tapes.
 *
 * @example
 * ```ts
 * const store = createMemoryStore();
 * const recorder = createRecorder({ store });
 * ```
 */
export function createMemoryStore(): TapeStore {
  const entries = new Map<string, Entry>();
  let order = 0;
  let closed = false;

  const check = () => {
    if (closed) {
      throw new TapedeckError({
        code: 'STORE_FAILURE',
        message: 'memory store: the store is closed',
      });
    }
  };

  const find = (id: string): Entry | undefined => {
    const direct = entries.get(id);
    if (direct) return direct;
    let byUpstream: Entry | undefined;
    let byResponse: Entry | undefined;
    for (const entry of entries.values()) {
      if (!byUpstream && entry.summary.upstreamSpanId === id) byUpstream = entry;
      if (!byResponse && entry.summary.responseId === id) byResponse = entry;
    }
    return byUpstream ?? byResponse;
  };

  const appendTo = (entry: Entry, data: TapeAppend) => {
    for (const chunk of data.chunks) {
      entry.parts.push(chunk.bytes.slice());
      entry.chunks.push({ offsetMs: chunk.offsetMs, byteLength: chunk.bytes.byteLength });
      entry.summary.byteLength += chunk.bytes.byteLength;
    }
    for (const event of data.events) {
      if (event.byteStart > event.byteEnd || event.byteEnd > entry.summary.byteLength) {
        throw new TapedeckError({
          code: 'INVALID_TAPE',
          message: `append: event ${event.index} spans bytes ${event.byteStart}..${event.byteEnd} but the tape has ${entry.summary.byteLength} bytes`,
          context: {
            tapeId: entry.summary.spanId,
            eventIndex: event.index,
            byteOffset: event.byteStart,
          },
        });
      }
      // A copy: the caller's event may be a parser's, or compute its data in a getter.
      entry.events.push(toTapeEvent(event, event.offsetMs));
      entry.summary.eventCount = Math.max(entry.summary.eventCount, event.index + 1);
      if (entry.summary.firstEventMs === undefined || event.offsetMs < entry.summary.firstEventMs) {
        entry.summary.firstEventMs = event.offsetMs;
      }
    }
  };

  return {
    async put(tape: TapeHead | Tape) {
      check();
      const isWhole = 'raw' in tape && tape.raw instanceof Uint8Array;
      const { raw: _raw, chunks: _chunks, events: _events, ...head } = tape as Tape;
      const summary = structuredClone(head) as TapeSummary;
      // Counted from what is appended below (a whole tape's bytes and events, or none yet).
      summary.eventCount = 0;
      summary.byteLength = 0;
      delete summary.firstEventMs;
      if (!isWhole) {
        summary.outcome = 'recording';
        delete summary.durationMs;
        delete summary.error;
      }
      entries.delete(tape.spanId);
      const entry: Entry = { order: order++, summary, parts: [], chunks: [], events: [] };
      entries.set(tape.spanId, entry);
      if (isWhole) {
        const whole = tape as Tape;
        let offset = 0;
        const chunks = whole.chunks.map((chunk) => {
          const bytes = whole.raw.subarray(offset, offset + chunk.byteLength);
          offset += chunk.byteLength;
          return { offsetMs: chunk.offsetMs, bytes };
        });
        if (offset < whole.raw.byteLength) {
          chunks.push({ offsetMs: whole.durationMs ?? 0, bytes: whole.raw.subarray(offset) });
        }
        appendTo(entry, { chunks, events: whole.events });
      }
    },
    async append(spanId: string, data: TapeAppend) {
      check();
      const entry = entries.get(spanId);
      if (!entry) throw notFound('append', spanId);
      appendTo(entry, data);
    },
    async finish(spanId: string, finish: TapeFinish) {
      check();
      const entry = entries.get(spanId);
      if (!entry) throw notFound('finish', spanId);
      const summary = entry.summary;
      summary.outcome = finish.outcome;
      summary.durationMs = finish.durationMs;
      if (finish.error !== undefined) summary.error = finish.error;
      else delete summary.error;
      if (finish.upstreamSpanId !== undefined) summary.upstreamSpanId = finish.upstreamSpanId;
      if (finish.responseId !== undefined) summary.responseId = finish.responseId;
      if (finish.model !== undefined) summary.model = finish.model;
    },
    async get(id: string) {
      check();
      const entry = find(id);
      if (!entry) return undefined;
      const raw = concat(entry.parts, entry.summary.byteLength);
      return {
        ...structuredClone(entry.summary),
        raw,
        chunks: structuredClone(entry.chunks),
        events: structuredClone(entry.events),
      };
    },
    async list(query: TapeListQuery = {}) {
      check();
      const descending = query.order !== 'asc';
      const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const limit = Math.max(1, Math.min(10_000, Math.trunc(query.limit ?? 100)));
      const matches = [...entries.values()]
        .filter(({ summary, order: position }) => {
          if (query.family !== undefined && summary.family !== query.family) return false;
          if (query.outcome !== undefined && summary.outcome !== query.outcome) return false;
          if (query.since !== undefined && summary.startedAt < query.since) return false;
          if (query.until !== undefined && summary.startedAt >= query.until) return false;
          if (query.urlContains !== undefined && !summary.request.url.includes(query.urlContains)) {
            return false;
          }
          if (query.requestHash !== undefined && summary.requestHash !== query.requestHash) {
            return false;
          }
          if (cursor) {
            const [startedAt, at] = cursor;
            const after =
              summary.startedAt > startedAt || (summary.startedAt === startedAt && position > at);
            const before =
              summary.startedAt < startedAt || (summary.startedAt === startedAt && position < at);
            if (descending ? !before : !after) return false;
          }
          return true;
        })
        .sort((a, b) => {
          const byTime = a.summary.startedAt - b.summary.startedAt || a.order - b.order;
          return descending ? -byTime : byTime;
        });
      const page = matches.slice(0, limit);
      const last = page[page.length - 1];
      const result: { tapes: TapeSummary[]; nextCursor?: string } = {
        tapes: page.map((entry) => structuredClone(entry.summary)),
      };
      if (matches.length > limit && last) {
        result.nextCursor = encodeCursor(last.summary.startedAt, last.order);
      }
      return result;
    },
    async delete(id: string) {
      check();
      const entry = find(id);
      if (!entry) return false;
      entries.delete(entry.summary.spanId);
      return true;
    },
    async prune({ olderThan }: { olderThan: number }) {
      check();
      let count = 0;
      for (const [spanId, entry] of entries) {
        if (entry.summary.startedAt < olderThan) {
          entries.delete(spanId);
          count += 1;
        }
      }
      return count;
    },
    async stats() {
      check();
      const result: TapeStoreStats = { tapes: 0, events: 0, bytes: 0, byOutcome: {}, byFamily: {} };
      for (const { summary } of entries.values()) {
        result.tapes += 1;
        result.events += summary.eventCount;
        result.bytes += summary.byteLength;
        result.byOutcome[summary.outcome] = (result.byOutcome[summary.outcome] ?? 0) + 1;
        result.byFamily[summary.family] = (result.byFamily[summary.family] ?? 0) + 1;
        if (result.oldestStartedAt === undefined || summary.startedAt < result.oldestStartedAt) {
          result.oldestStartedAt = summary.startedAt;
        }
        if (result.newestStartedAt === undefined || summary.startedAt > result.newestStartedAt) {
          result.newestStartedAt = summary.startedAt;
        }
      }
      return result;
    },
    async close() {
      closed = true;
    },
  };
}

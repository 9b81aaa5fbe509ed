import { randomBytes } from 'node:crypto';
import type { Tape, TapeEvent, TapeHead, TapeStore } from '@tapedeck/types';
import { TapedeckError } from '@tapedeck/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const encoder = new TextEncoder();

/** A tape head with fresh ids; `overrides` replace any field. */
export function createTestTapeHead(overrides: Partial<TapeHead> = {}): TapeHead {
  return {
    schemaVersion: 1,
    spanId: randomBytes(8).toString('hex'),
    traceId: randomBytes(16).toString('hex'),
    family: 'opper',
    request: {
      method: 'POST',
      url: 'http://127.0.0.1:1/v2/call/stream',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"capital"}',
    },
    requestHash: 'hash-1',
    response: { status: 200, statusText: 'OK', headers: { 'content-type': 'text/event-stream' } },
    startedAt: 1_700_000_000_000,
    ...overrides,
  };
}

function event(index: number, byteStart: number, text: string, offsetMs: number): TapeEvent {
  const byteEnd = byteStart + encoder.encode(`data: ${text}\n\n`).byteLength;
  return { index, offsetMs, byteStart, byteEnd, type: 'message', id: '', data: text };
}

/**
 * The behaviour every {@link TapeStore} must have, as a vitest suite (Polly-style): call it from a
 * test file with a factory that returns a fresh, empty store.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from '@tapedeck/recorder';
 * import { describeTapeStore } from '@tapedeck/recorder/testing';
 * describeTapeStore(() => createMemoryStore(), { name: 'memory store' });
 * ```
 */
export function describeTapeStore(
  createStore: () => TapeStore | Promise<TapeStore>,
  { name = 'store' }: { name?: string } = {},
): void {
  describe(`${name} (TapeStore contract)`, () => {
    let store: TapeStore;
    beforeEach(async () => {
      store = await createStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('put creates a recording tape with no bytes, found by spanId', async () => {
      const head = createTestTapeHead();
      await store.put(head);
      const tape = await store.get(head.spanId);
      expect(tape).toMatchObject({ ...head, outcome: 'recording', eventCount: 0, byteLength: 0 });
      expect(tape?.raw.byteLength).toBe(0);
      expect(tape?.chunks).toEqual([]);
      expect(tape?.events).toEqual([]);
      expect(await store.get('0123456789abcdef')).toBeUndefined();
    });

    it('a read issued right after writes (not awaited) sees them', async () => {
      const head = createTestTapeHead();
      const put = store.put(head);
      const appended = store.append(head.spanId, {
        chunks: [{ offsetMs: 1, bytes: encoder.encode('data: a\n\n') }],
        events: [event(0, 0, 'a', 1)],
      });
      const finished = store.finish(head.spanId, { outcome: 'complete', durationMs: 3 });
      const tape = await store.get(head.spanId);
      expect(tape).toMatchObject({ outcome: 'complete', eventCount: 1, byteLength: 9 });
      const listed = await store.list({});
      expect(listed.tapes.map((summary) => summary.spanId)).toEqual([head.spanId]);
      await Promise.all([put, appended, finished]);
      // Writes issued over several ticks (a SQLite store has one batch on its way to the writer
      // and one still queued) are all seen.
      const second = store.put(createTestTapeHead({ startedAt: head.startedAt + 1 }));
      await new Promise((resolve) => setImmediate(resolve));
      const third = store.put(createTestTapeHead({ startedAt: head.startedAt + 2 }));
      expect((await store.stats()).tapes).toBe(3);
      await Promise.all([second, third]);
    });

    it('append keeps raw bytes exactly, every chunk offset and every event range', async () => {
      const head = createTestTapeHead();
      await store.put(head);
      const first = encoder.encode('data: {"span_id":"up-1"}\n\nda');
      const second = encoder.encode('ta: "x"\n\n');
      // Every byte value, including CR, NUL and invalid UTF-8, must survive.
      const binary = new Uint8Array(256).map((_, index) => index);
      await store.append(head.spanId, {
        chunks: [
          { offsetMs: 1.5, bytes: first },
          { offsetMs: 3, bytes: second },
        ],
        events: [event(0, 0, '{"span_id":"up-1"}', 1.5), event(1, 26, '"x"', 3)],
      });
      await store.append(head.spanId, { chunks: [{ offsetMs: 9, bytes: binary }], events: [] });
      const tape = await store.get(head.spanId);
      const expected = new Uint8Array([...first, ...second, ...binary]);
      expect(tape?.raw).toEqual(expected);
      expect(tape?.chunks).toEqual([
        { offsetMs: 1.5, byteLength: first.byteLength },
        { offsetMs: 3, byteLength: second.byteLength },
        { offsetMs: 9, byteLength: 256 },
      ]);
      expect(tape?.events).toEqual([
        event(0, 0, '{"span_id":"up-1"}', 1.5),
        event(1, 26, '"x"', 3),
      ]);
      expect(tape).toMatchObject({
        eventCount: 2,
        byteLength: expected.byteLength,
        firstEventMs: 1.5,
      });
    });

    it('finish records the outcome and keys; get finds the tape by upstream span id and response id', async () => {
      const head = createTestTapeHead();
      await store.put(head);
      await store.finish(head.spanId, {
        outcome: 'aborted',
        error: 'the consumer cancelled',
        durationMs: 42,
        upstreamSpanId: '3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f',
        responseId: 'resp_1',
        model: 'gpt-test',
      });
      for (const id of [head.spanId, '3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f', 'resp_1']) {
        expect(await store.get(id)).toMatchObject({
          spanId: head.spanId,
          outcome: 'aborted',
          error: 'the consumer cancelled',
          durationMs: 42,
          model: 'gpt-test',
        });
      }
    });

    it('append and finish on an unknown tape reject with TAPE_NOT_FOUND', async () => {
      const missing = 'fedcba9876543210';
      const appendError = await store
        .append(missing, { chunks: [], events: [] })
        .catch((error: unknown) => error);
      expect(TapedeckError.hasCode(appendError, 'TAPE_NOT_FOUND')).toBe(true);
      const finishError = await store
        .finish(missing, { outcome: 'complete', durationMs: 1 })
        .catch((error: unknown) => error);
      expect(TapedeckError.hasCode(finishError, 'TAPE_NOT_FOUND')).toBe(true);
    });

    it('put imports a whole tape and round-trips it unchanged', async () => {
      const raw = encoder.encode('data: a\r\n\r\n: keep-alive\rdata: b\r\r');
      const tape: Tape = {
        ...createTestTapeHead({ family: 'sse', tags: { test: 'import' }, model: 'm' }),
        outcome: 'complete',
        durationMs: 20,
        eventCount: 2,
        byteLength: raw.byteLength,
        firstEventMs: 5,
        raw,
        chunks: [
          { offsetMs: 5, byteLength: 7 },
          { offsetMs: 10, byteLength: raw.byteLength - 7 },
        ],
        events: [
          { index: 0, offsetMs: 5, byteStart: 0, byteEnd: 11, type: 'message', id: '', data: 'a' },
          {
            index: 1,
            offsetMs: 10,
            byteStart: 11,
            byteEnd: raw.byteLength,
            type: 'message',
            id: '',
            data: 'b',
            retry: 300,
          },
        ],
      };
      await store.put(tape);
      expect(await store.get(tape.spanId)).toEqual(tape);
    });

    it('put with an existing spanId replaces the tape', async () => {
      const head = createTestTapeHead();
      await store.put(head);
      await store.append(head.spanId, {
        chunks: [{ offsetMs: 1, bytes: encoder.encode('data: old\n\n') }],
        events: [event(0, 0, 'old', 1)],
      });
      await store.put({ ...head, model: 'new' });
      const tape = await store.get(head.spanId);
      expect(tape).toMatchObject({ model: 'new', eventCount: 0, byteLength: 0 });
      expect((await store.list()).tapes).toHaveLength(1);
    });

    it('list filters by family, outcome, time, URL text and request hash, newest first', async () => {
      const a = createTestTapeHead({ family: 'opper', startedAt: 1000, requestHash: 'h-a' });
      const b = createTestTapeHead({
        family: 'openresponses',
        startedAt: 2000,
        requestHash: 'h-b',
        request: {
          method: 'POST',
          url: "http://127.0.0.1:1/responses?q=100%_'x'",
          headers: {},
          body: null,
        },
      });
      const c = createTestTapeHead({ family: 'opper', startedAt: 3000, requestHash: 'h-a' });
      for (const head of [a, b, c]) await store.put(head);
      await store.finish(c.spanId, { outcome: 'complete', durationMs: 1 });
      const ids = async (query: Parameters<TapeStore['list']>[0]) =>
        (await store.list(query)).tapes.map((tape) => tape.spanId);
      expect(await ids({})).toEqual([c.spanId, b.spanId, a.spanId]);
      expect(await ids({ order: 'asc' })).toEqual([a.spanId, b.spanId, c.spanId]);
      expect(await ids({ family: 'opper' })).toEqual([c.spanId, a.spanId]);
      expect(await ids({ outcome: 'complete' })).toEqual([c.spanId]);
      expect(await ids({ outcome: 'recording' })).toEqual([b.spanId, a.spanId]);
      expect(await ids({ since: 2000 })).toEqual([c.spanId, b.spanId]);
      expect(await ids({ until: 2000 })).toEqual([a.spanId]);
      expect(await ids({ urlContains: "100%_'x'" })).toEqual([b.spanId]);
      expect(await ids({ urlContains: '%' })).toEqual([b.spanId]);
      expect(await ids({ requestHash: 'h-a', family: 'opper' })).toEqual([c.spanId, a.spanId]);
    });

    it('list pages with a cursor through every tape exactly once, even with equal start times', async () => {
      const heads = Array.from({ length: 7 }, (_, index) =>
        createTestTapeHead({ startedAt: 1000 + Math.floor(index / 3) }),
      );
      for (const head of heads) await store.put(head);
      for (const order of ['asc', 'desc'] as const) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.list({ limit: 3, order, ...(cursor ? { cursor } : {}) });
          seen.push(...page.tapes.map((tape) => tape.spanId));
          cursor = page.nextCursor;
          pages += 1;
        } while (cursor);
        expect(pages).toBe(3);
        expect(new Set(seen).size).toBe(7);
        expect(seen.sort()).toEqual(heads.map((head) => head.spanId).sort());
      }
      const error = await store.list({ cursor: 'not-a-cursor' }).catch((cause: unknown) => cause);
      expect(TapedeckError.hasCode(error, 'INVALID_ARGUMENT')).toBe(true);
    });

    it('delete removes a tape found by any of its ids', async () => {
      const head = createTestTapeHead();
      await store.put(head);
      await store.append(head.spanId, {
        chunks: [{ offsetMs: 1, bytes: encoder.encode('data: x\n\n') }],
        events: [event(0, 0, 'x', 1)],
      });
      await store.finish(head.spanId, {
        outcome: 'complete',
        durationMs: 2,
        responseId: 'resp_del',
      });
      expect(await store.delete('resp_del')).toBe(true);
      expect(await store.get(head.spanId)).toBeUndefined();
      expect(await store.delete(head.spanId)).toBe(false);
      expect((await store.stats()).events).toBe(0);
    });

    it('prune deletes tapes started before a time and says how many', async () => {
      for (const startedAt of [100, 200, 300]) await store.put(createTestTapeHead({ startedAt }));
      expect(await store.prune({ olderThan: 250 })).toBe(2);
      const { tapes } = await store.list();
      expect(tapes.map((tape) => tape.startedAt)).toEqual([300]);
    });

    it('stats counts tapes, events, bytes, outcomes and families', async () => {
      const a = createTestTapeHead({ family: 'opper', startedAt: 10 });
      const b = createTestTapeHead({ family: 'chat-completions', startedAt: 20 });
      await store.put(a);
      await store.put(b);
      await store.append(a.spanId, {
        chunks: [{ offsetMs: 1, bytes: encoder.encode('data: x\n\n') }],
        events: [event(0, 0, 'x', 1)],
      });
      await store.finish(a.spanId, { outcome: 'complete', durationMs: 2 });
      expect(await store.stats()).toEqual({
        tapes: 2,
        events: 1,
        bytes: 9,
        byOutcome: { complete: 1, recording: 1 },
        byFamily: { opper: 1, 'chat-completions': 1 },
        oldestStartedAt: 10,
        newestStartedAt: 20,
      });
    });
  });
}

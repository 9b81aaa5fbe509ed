import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { StreamEvents$inboundSchema } from '@openrouter/sdk/models';
import {
  FunctionStreamCallStreamPostResponseBody$inboundSchema,
  StreamingChunk$inboundSchema,
} from 'opperai/models/operations';
import { describe, expect, it } from 'vitest';
import { OPENRESPONSES_EVENT_TYPES, openResponsesKnownEventSchema } from '../src/openresponses.js';
import { opperChunkSchema } from '../src/opper.js';
import { parseEventData } from '../src/parse-event.js';
import { familyOfFile, fixturesDirectory, readStreams, samplesDirectory } from './split-sse.js';

// The real clients' own schemas decide what they will hand to a user. These tests hold ours
// to theirs: what we call a known event, they parse as a known event, and the other way round.

const streams = [...readStreams(samplesDirectory), ...readStreams(fixturesDirectory)];
const openResponsesEvents = streams
  .filter(([name]) => familyOfFile(name) === 'openresponses')
  .flatMap(([name, events]) => events.map((event, index) => ({ name, index, ...event })))
  .filter((event) => event.data !== '[DONE]');
const opperEvents = streams
  .filter(([name]) => familyOfFile(name) === 'opper')
  .flatMap(([name, events]) => events.map((event, index) => ({ name, index, ...event })));

function theirsKnowsOpenResponses(value: unknown): boolean {
  const result = StreamEvents$inboundSchema.safeParse(value);
  return result.success && !(result.data as { isUnknown?: boolean }).isUnknown;
}

function oursKnows(family: 'openresponses' | 'opper', value: unknown): boolean {
  const result = parseEventData(family, { data: JSON.stringify(value) });
  return result.ok && result.known;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Drops the top-level keys our schema for this type does not have (theirs strips them). */
function withoutExtraKeys(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const type = (value as { type?: unknown }).type;
  const option = openResponsesKnownEventSchema.options.find(
    (candidate) => candidate.shape.type.value === type,
  );
  if (!option) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key in option.shape));
}

/** Fields the SDK parses with a forward-compatible union that never fails. */
const OPEN_NESTED_UNIONS = new Set(['item', 'part', 'annotation']);
/** Optional fields we model that the SDK does not (OpenAI's delta padding). */
const OURS_ONLY_KEYS = new Set(['obfuscation']);

describe('@openrouter/sdk agrees on OpenResponses events', () => {
  it('knows the same 49 event types (read from its stream-event union)', () => {
    const require = createRequire(import.meta.url);
    const source = readFileSync(
      join(dirname(require.resolve('@openrouter/sdk/models')), 'streamevents.js'),
      'utf8',
    );
    const union = source.slice(source.indexOf('discriminatedUnion("type", {'));
    const theirs = [
      ...union.slice(0, union.indexOf('});')).matchAll(/^\s*(?:\["([^"]+)"\]|(\w+)):/gm),
    ].map((match) => match[1] ?? match[2]);
    expect(theirs).toHaveLength(49);
    expect([...OPENRESPONSES_EVENT_TYPES].sort()).toEqual([...theirs].sort());
  });

  it('accepts every event we call known, and we know every event it knows', () => {
    expect(openResponsesEvents.length).toBeGreaterThan(100);
    for (const { name, index, data } of openResponsesEvents) {
      const value = tryJson(data);
      const ours = oursKnows('openresponses', value);
      const theirs = theirsKnowsOpenResponses(value);
      if (ours) expect(theirs, `${name} event ${index}: ours known, theirs not`).toBe(true);
      if (theirs && !ours) {
        // The one deliberate difference: a known type with fields we do not know. The SDK
        // strips them and calls it known; we keep it whole as unknown. Without them we agree.
        expect(oursKnows('openresponses', withoutExtraKeys(value)), `${name} event ${index}`).toBe(
          true,
        );
      }
    }
  });

  it('agrees on every fixture event with one top-level field removed or mistyped', () => {
    let compared = 0;
    let divergences = 0;
    for (const { name, index, data } of openResponsesEvents) {
      const value = tryJson(data);
      if (!oursKnows('openresponses', value)) continue;
      for (const key of Object.keys(value as object)) {
        if (key === 'type') continue;
        const removed = { ...(value as Record<string, unknown>) };
        delete removed[key];
        const mistyped = { ...(value as Record<string, unknown>), [key]: { unexpected: true } };
        for (const variant of [removed, mistyped]) {
          compared++;
          const label = `${name} event ${index} ${variant === removed ? 'without' : 'with mistyped'} ${key}`;
          const ours = oursKnows('openresponses', variant);
          const theirs = theirsKnowsOpenResponses(variant);
          if (variant === mistyped && OPEN_NESTED_UNIONS.has(key) && theirs && !ours) {
            // The SDK's nested forward-compatible unions take any value, even `{unexpected}`
            // without a `type`; ours insist on an object with a string `type`.
            divergences++;
            continue;
          }
          if (variant === mistyped && OURS_ONLY_KEYS.has(key) && theirs && !ours) {
            // The SDK does not know `obfuscation` and strips it whatever it holds; we check it.
            divergences++;
            continue;
          }
          expect(ours, label).toBe(theirs);
        }
      }
    }
    expect(compared).toBeGreaterThan(500);
    expect(divergences).toBeLessThan(compared / 10);
  });

  it('agrees that unknown types, non-objects and missing types are not known events', () => {
    for (const value of [
      { type: 'response.brand_new', sequence_number: 1 },
      { sequence_number: 1 },
      [1, 2],
      'text',
      null,
    ]) {
      expect(oursKnows('openresponses', value)).toBe(false);
      expect(theirsKnowsOpenResponses(value)).toBe(false);
    }
  });
});

describe('opperai agrees on Opper chunks', () => {
  it('parses every chunk we call known, with the same values', () => {
    expect(opperEvents.length).toBeGreaterThan(20);
    for (const { name, index, data } of opperEvents) {
      const ours = parseEventData('opper', { data });
      expect(ours.ok && ours.known, `${name} event ${index}`).toBe(true);
      const theirs = StreamingChunk$inboundSchema.safeParse(JSON.parse(data));
      expect(theirs.success, `${name} event ${index}`).toBe(true);
      const chunk = JSON.parse(data);
      if (theirs.success) {
        expect(theirs.data.delta).toEqual(chunk.delta);
        expect(theirs.data.jsonPath).toEqual(chunk.json_path);
        expect(theirs.data.spanId).toEqual(chunk.span_id);
        expect(theirs.data.chunkType).toEqual(chunk.chunk_type);
      }
      // And the SDK's whole-event schema (SSE envelope + JSON data) takes the event too.
      expect(
        FunctionStreamCallStreamPostResponseBody$inboundSchema.safeParse({ event: 'message', data })
          .success,
      ).toBe(true);
    }
  });

  it('rejects what the SDK rejects: mistyped fields, non-objects, and [DONE]', () => {
    for (const data of ['{"delta":{"a":1}}', '{"span_id":5}', '{"chunk_type":false}', '[1]']) {
      const ours = parseEventData('opper', { data });
      expect(ours.ok, data).toBe(false);
      expect(StreamingChunk$inboundSchema.safeParse(JSON.parse(data)).success, data).toBe(false);
    }
    expect(parseEventData('opper', { data: '[DONE]' })).toMatchObject({ problem: 'sentinel' });
    expect(
      FunctionStreamCallStreamPostResponseBody$inboundSchema.safeParse({ data: '[DONE]' }).success,
    ).toBe(false);
  });

  it('keeps as unknown what the SDK would strip: extra keys and new chunk types', () => {
    for (const data of [
      '{"delta":"x","chunk_type":"reasoning"}',
      '{"delta":"x","trace":{"a":1}}',
    ]) {
      const ours = parseEventData('opper', { data });
      expect(ours).toMatchObject({ ok: true, known: false });
      expect(ours.ok && JSON.stringify(ours.value)).toBe(data);
      expect(StreamingChunk$inboundSchema.safeParse(JSON.parse(data)).success).toBe(true);
      expect(opperChunkSchema.safeParse(JSON.parse(data)).success).toBe(false);
    }
  });
});

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleOutput } from '../src/assemble-output.js';
import { OPENRESPONSES_EVENT_TYPES } from '../src/openresponses.js';
import { detectFamily, extractStreamInfo, parseEventData } from '../src/parse-event.js';
import {
  familyOfFile,
  fixturesDirectory,
  readStreams,
  samplesDirectory,
  sharedSamplesDirectory,
  splitSse,
} from './split-sse.js';

const samples = readStreams(samplesDirectory);
const fixtures = readStreams(fixturesDirectory).filter(
  ([name]) => name !== 'openresponses-unknown.sse',
);

const urls = {
  opper: 'https://api.opper.ai/v2/call/stream',
  openresponses: 'https://openrouter.ai/api/v1/responses',
  'chat-completions': 'https://openrouter.ai/api/v1/chat/completions',
} as const;

describe('shared samples', () => {
  it('are all here, and the copies equal the originals wherever those exist', () => {
    expect(samples.map(([name]) => name)).toEqual([
      'openresponses-error.sse',
      'openresponses-function-call.sse',
      'openresponses-incomplete.sse',
      'openresponses-reasoning.sse',
      'openresponses-text.sse',
      'openrouter-chat.sse',
      'opper-error.sse',
      'opper-json.sse',
      'opper-text.sse',
    ]);
    const shared = existsSync(sharedSamplesDirectory) ? readdirSync(sharedSamplesDirectory) : [];
    for (const name of shared) {
      expect(readFileSync(`${samplesDirectory}${name}`, 'utf8'), name).toBe(
        readFileSync(`${sharedSamplesDirectory}${name}`, 'utf8'),
      );
    }
  });
});

describe.each([...samples, ...fixtures])('%s', (name, events) => {
  const family = familyOfFile(name);

  it('has only known events (and [DONE] sentinels)', () => {
    expect(events.length).toBeGreaterThan(0);
    events.forEach((event, index) => {
      const result = parseEventData(family, event);
      if (!result.ok) {
        expect(result.problem, `event ${index}: ${result.message}`).toBe('sentinel');
        expect(event.data).toBe('[DONE]');
      } else {
        expect(result.known, `event ${index} of ${name}`).toBe(true);
        // The value is exactly what was on the wire.
        expect(JSON.stringify(result.value)).toBe(JSON.stringify(JSON.parse(event.data)));
      }
    });
  });

  it('is detected as its family from the events alone and from the URL alone', () => {
    expect(detectFamily({ url: 'http://127.0.0.1:1/proxy' }, events.slice(0, 2))).toBe(family);
    expect(detectFamily({ url: urls[family] })).toBe(family);
  });

  it('gives its keys to extractStreamInfo', () => {
    const info = Object.assign(
      {},
      ...events.map((event) => {
        const result = parseEventData(family, event);
        return result.ok ? extractStreamInfo(family, result.value) : {};
      }),
    );
    if (family === 'opper') expect(info.upstreamSpanId).toMatch(/^[0-9a-f-]{36}$/);
    else expect(info.responseId).toMatch(/^(resp_|gen-|chatcmpl-)/);
  });
});

describe('fixtures', () => {
  it('cover every one of the 49 OpenResponses event types', () => {
    const seen = new Set<string>();
    for (const [name, events] of fixtures) {
      if (familyOfFile(name) !== 'openresponses') continue;
      for (const event of events) {
        const result = parseEventData('openresponses', event);
        if (result.ok && result.known) seen.add(result.value.type);
      }
    }
    for (const [, events] of samples) {
      for (const event of events) {
        const result = parseEventData('openresponses', event);
        if (result.ok && result.known) seen.add(result.value.type);
      }
    }
    expect(OPENRESPONSES_EVENT_TYPES).toHaveLength(49);
    expect([...OPENRESPONSES_EVENT_TYPES].filter((type) => !seen.has(type))).toEqual([]);
  });
});

describe('unknown and malformed events', () => {
  const events = splitSse(readFileSync(`${fixturesDirectory}openresponses-unknown.sse`, 'utf8'));

  it('round-trip untouched: JSON.stringify of what comes out equals what went in', () => {
    const outcomes = events.map((event) => parseEventData('openresponses', event));
    expect(
      outcomes.map((result) => (result.ok ? `known:${result.known}` : result.problem)),
    ).toEqual([
      'known:true',
      'known:false', // a type this version does not know
      'known:false', // a known type with an extra field
      'schema-mismatch', // a known type without its `text`
      'schema-mismatch', // a known type with a mistyped sequence_number
      'schema-mismatch', // no `type`
      'schema-mismatch', // not an object
      'not-json',
    ]);
    outcomes.forEach((result, index) => {
      const data = events[index]?.data ?? '';
      if (result.ok || result.problem === 'schema-mismatch') {
        const value = result.ok ? result.value : result.value;
        expect(JSON.stringify(value)).toBe(data);
      }
    });
    const mistyped = outcomes[4];
    expect(mistyped?.ok === false && mistyped.path).toEqual(['sequence_number']);
  });

  it('still count towards the assembled output and are listed as problems', () => {
    const output = assembleOutput('openresponses', events);
    expect(output.text).toBe('Hi!');
    expect(output.problems.map(({ eventIndex, problem }) => [eventIndex, problem])).toEqual([
      [1, 'unknown'],
      [2, 'unknown'],
      [3, 'schema-mismatch'],
      [4, 'schema-mismatch'],
      [5, 'schema-mismatch'],
      [6, 'schema-mismatch'],
      [7, 'not-json'],
    ]);
    expect(output.status).toBe('unfinished');
  });
});

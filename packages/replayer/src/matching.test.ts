import { describe, expect, it } from 'vitest';
import { buildTape, createArrayStore, readFixture } from '../test/helpers.js';
import { createTapeMatcher } from './matching.js';

const raw = readFixture('openresponses-text.sse');
const url = 'https://api.example.test/v1/responses';
const body = { model: 'gpt-4o-mini', input: 'What is the capital of France?', stream: true };

function tape(
  requestBody: unknown,
  startedAt = 1_000,
  extra: { url?: string; method?: string } = {},
) {
  return buildTape({
    raw,
    family: 'openresponses',
    url: extra.url ?? url,
    method: extra.method ?? 'POST',
    body: JSON.stringify(requestBody),
    startedAt,
  });
}

function request(requestBody: unknown, headers: Record<string, string> = {}, requestUrl = url) {
  return { method: 'POST', url: requestUrl, headers, body: JSON.stringify(requestBody) };
}

describe('createTapeMatcher', () => {
  it('matches regardless of key order, query order and default-ignored fields', async () => {
    const recorded = tape(body, 1_000, { url: `${url}?b=2&a=1` });
    const matcher = createTapeMatcher({ store: createArrayStore([recorded]) });
    const result = await matcher.match(
      request(
        { stream: true, metadata: { run: 'x' }, input: body.input, model: body.model, user: 'u2' },
        {},
        `${url}?a=1&b=2`,
      ),
    );
    expect(result.matched && result.tape.spanId).toBe(recorded.spanId);
  });

  it('explains a miss: the request, the closest tape and the exact differing fields', async () => {
    const recorded = tape(body);
    const other = tape({ model: 'other', input: 'unrelated', stream: false }, 2_000, {
      url: 'https://api.example.test/v1/chat/completions',
    });
    const matcher = createTapeMatcher({ store: createArrayStore([recorded, other]) });
    const result = await matcher.match(
      request({ ...body, input: 'What is the capital of Spain?', temperature: 0.2 }),
    );
    expect(result.matched).toBe(false);
    if (result.matched) return;
    expect(result.miss.closest.map((candidate) => candidate.tape.spanId)).toEqual([
      recorded.spanId,
    ]);
    expect(result.miss.message).toBe(
      [
        `[tapedeck] No tape matches POST ${url}.`,
        `  Closest tape ${recorded.spanId} (openresponses, POST ${url}, recorded ${new Date(1_000).toISOString()}) differs in:`,
        '    body.input: "What is the capital of Spain?" (request) vs "What is the capital of France?" (tape)',
        '    body.temperature: 0.2 (request) vs absent (tape)',
        "  If the request changed on purpose, re-record the tape (TAPEDECK_MODE=record); if the difference does not matter, loosen matching: matchRequestsBy: {ignoreBodyFields: ['input', 'temperature']}.",
      ].join('\n'),
    );
  });

  it('says the store is empty when it is', async () => {
    const matcher = createTapeMatcher({ store: createArrayStore([]) });
    const result = await matcher.match(request(body));
    expect(!result.matched && result.miss.message).toContain('The store has no tapes');
  });

  it('replays same-key tapes in recorded order, repeating the last; latest picks the newest', async () => {
    const first = tape(body, 1_000);
    const second = tape(body, 2_000);
    const store = createArrayStore([second, first]);
    const sequential = createTapeMatcher({ store });
    const picked: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const result = await sequential.match(request(body));
      if (!result.matched) throw new Error('expected a match');
      picked.push(result.tape.spanId);
    }
    expect(picked).toEqual([first.spanId, second.spanId, second.spanId]);
    const concurrent = createTapeMatcher({ store });
    const both = await Promise.all([
      concurrent.match(request(body)),
      concurrent.match(request(body)),
    ]);
    expect(both.map((result) => result.matched && result.tape.spanId)).toEqual([
      first.spanId,
      second.spanId,
    ]);
    const latest = createTapeMatcher({ store, order: 'latest' });
    const result = await latest.match(request(body));
    expect(result.matched && result.tape.spanId).toBe(second.spanId);
  });

  it('pins a tape with the x-tapedeck-tape header, whatever the body', async () => {
    const recorded = tape(body);
    const matcher = createTapeMatcher({ store: createArrayStore([recorded]) });
    const result = await matcher.match(
      request({ anything: 1 }, { 'X-Tapedeck-Tape': recorded.spanId }),
    );
    expect(result.matched && result.tape.spanId).toBe(recorded.spanId);
    const missing = await matcher.match(request(body, { 'x-tapedeck-tape': 'ffffffffffffffff' }));
    expect(!missing.matched && missing.miss.message).toContain('pins tape "ffffffffffffffff"');
  });

  it('ignores headers by default and compares the listed ones when asked', async () => {
    const recorded = tape(body);
    const store = createArrayStore([recorded]);
    const loose = createTapeMatcher({ store });
    expect((await loose.match(request(body, { 'x-team': 'b' }))).matched).toBe(true);
    const strict = createTapeMatcher({ store, matchRequestsBy: { headers: ['content-type'] } });
    expect(
      (await strict.match(request(body, { 'content-type': 'application/json' }))).matched,
    ).toBe(true);
    const result = await strict.match(request(body, { 'content-type': 'text/plain' }));
    expect(!result.matched && result.miss.message).toContain(
      'headers.content-type: "text/plain" (request) vs "application/json" (tape)',
    );
  });

  it('takes functions and user ignore lists for each part', async () => {
    const recorded = tape(body);
    const store = createArrayStore([recorded]);
    const byModel = createTapeMatcher({
      store,
      matchRequestsBy: {
        body: (value) => (value as { model: string }).model,
        url: (parsed) => parsed.pathname,
      },
    });
    const result = await byModel.match(
      request({ ...body, input: 'changed' }, {}, 'http://other.test/v1/responses'),
    );
    expect(result.matched).toBe(true);
    const ignoring = createTapeMatcher({ store, matchRequestsBy: { ignoreBodyFields: ['input'] } });
    expect((await ignoring.match(request({ ...body, input: 'changed' }))).matched).toBe(true);
    const noBody = createTapeMatcher({ store, matchRequestsBy: { body: false } });
    expect((await noBody.match(request({}))).matched).toBe(true);
  });

  it('loads only the matched tape, not every tape', async () => {
    const tapes = Array.from({ length: 50 }, (_, index) =>
      tape({ ...body, input: `q${index}` }, index),
    );
    const store = createArrayStore(tapes);
    const matcher = createTapeMatcher({ store });
    await matcher.match(request({ ...body, input: 'q7' }));
    expect(store.gets).toBe(1);
  });
});

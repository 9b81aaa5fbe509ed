import { readFileSync } from 'node:fs';
import { requestHash, type TapeHead } from '@tapedeck/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore, createRecorder } from '../src/index.js';
import { readChunks, startUpstream } from './upstream.js';

const opperBytes = new Uint8Array(readFileSync('/work/shared/formats/samples/opper-text.sse'));

describe('recorded request bodies', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  beforeAll(async () => {
    upstream = await startUpstream(() => ({ chunks: [opperBytes] }));
  });
  afterAll(() => upstream.close());

  // A string body is recorded as given (no clone of the request is read); it must be exactly
  // what reading the request's body gives, as for a Request passed in, whatever the string holds.
  it.each([
    ['plain JSON', '{"name":"capital","input":"é 😀","stream":true}'],
    ['a leading BOM', '\uFEFF{"name":"bom"}'],
    ['a lone surrogate', '{"name":"\uD800 half"}'],
    ['empty', ''],
  ])('a string body with %s is stored as the request sends it', async (_name, body) => {
    const store = createMemoryStore();
    const recorder = createRecorder({ store });
    const url = `${upstream.url}/v2/call/stream`;
    const init = { method: 'POST', headers: { accept: 'text/event-stream' }, body };
    await readChunks((await recorder.fetch(`${url}?string`, init)).body);
    await readChunks((await recorder.fetch(new Request(`${url}?request`, init))).body);
    await recorder.close();
    const { tapes } = await store.list({ order: 'asc' });
    expect(tapes.map((tape) => tape.request.url)).toEqual([`${url}?string`, `${url}?request`]);
    const [fromString, fromRequest] = tapes;
    expect(fromString?.request.body).toBe(await new Request(url, init).text());
    expect(fromString?.request.body).toBe(fromRequest?.request.body);
    const seen = upstream.requests.slice(-2).map((request) => request.body);
    expect(seen[0]).toBe(seen[1]);
  });

  // fetch given a Request copies it and pipes its body through another stream; the caller's own
  // arguments cost nothing more, and can be sent again when the body is a string or absent.
  it("hands the wrapped fetch the caller's own arguments when they can be sent again, else a Request", async () => {
    const store = createMemoryStore();
    const recorder = createRecorder({ store });
    const received: Array<[RequestInfo | URL, RequestInit | undefined]> = [];
    const recordedFetch = recorder.wrap((input, init) => {
      received.push([input, init]);
      return fetch(input, init);
    });
    const url = `${upstream.url}/v2/call/stream`;
    const stringInit = {
      method: 'POST',
      headers: { accept: 'text/event-stream' },
      body: '{"a":1}',
    };
    await readChunks((await recordedFetch(url, stringInit)).body);
    const streamBody = new Blob(['{"a":1}']).stream();
    await readChunks(
      (
        await recordedFetch(url, {
          method: 'POST',
          headers: { accept: 'text/event-stream' },
          body: streamBody,
          duplex: 'half',
        } as RequestInit)
      ).body,
    );
    await recorder.close();
    expect(received[0]).toEqual([url, stringInit]);
    expect(received[0]![1]).toBe(stringInit);
    expect(received[1]![0]).toBeInstanceOf(Request);
    const { tapes } = await store.list({ order: 'asc' });
    expect(tapes.map((tape) => tape.request.body)).toEqual(['{"a":1}', '{"a":1}']);
    expect(upstream.requests.slice(-2).map((request) => request.body)).toEqual([
      '{"a":1}',
      '{"a":1}',
    ]);
  });

  // With no filter the recorder reads the request off the caller's arguments, without building
  // a Request: what it records must be what a Request of the same arguments says.
  it.each<[string, (base: string) => [string | URL, RequestInit]]>([
    [
      'a URL object, a lower-case method',
      (base) => [
        new URL(`${base}?q=1`),
        { method: 'post', headers: { accept: 'text/event-stream' }, body: '{"stream":true}' },
      ],
    ],
    [
      'a URL to normalize',
      (base) => [
        `${base.toUpperCase().replace('HTTP://', 'http://')}/./x/../v2/call/stream?q=a b&é=1#frag`,
        { method: 'POST', body: '{"stream":true}' },
      ],
    ],
    [
      'a method kept as given, headers as pairs',
      (base) => [
        base,
        {
          method: 'patch',
          headers: [
            ['Accept', 'text/event-stream'],
            ['X-Trace', 'a, b'],
          ],
          body: '{}',
        },
      ],
    ],
    [
      'its own content type',
      (base) => [
        base,
        {
          method: 'POST',
          headers: new Headers({ 'content-type': 'application/json', accept: 'text/event-stream' }),
          body: '{}',
        },
      ],
    ],
    ['no body', (base) => [base, { headers: { accept: 'text/event-stream' } }]],
  ])('records %s as a Request of the same arguments would', async (_name, make) => {
    const store = createMemoryStore();
    const recorder = createRecorder({ store });
    const [input, init] = make(`${upstream.url}/v2/call/stream`);
    await readChunks((await recorder.fetch(input, init)).body);
    await readChunks((await recorder.fetch(new Request(input, init))).body);
    await recorder.close();
    const { tapes } = await store.list({ order: 'asc' });
    expect(tapes).toHaveLength(2);
    const [fromArguments, fromRequest] = tapes.map((tape) => tape.request);
    expect(fromArguments).toEqual(fromRequest);
    const [sentByArguments, sentByRequest] = upstream.requests.slice(-2);
    expect(sentByArguments?.method).toBe(sentByRequest?.method);
    expect(sentByArguments?.headers['content-type']).toBe(sentByRequest?.headers['content-type']);
  });

  // The body is parsed once for the stream flag, the model, the family and the hash: each must
  // come out as from the body's own text.
  it('stores the hash, model and family of the body as sent, or as redacted', async () => {
    // A path that names no family: the head's family comes from the body (the events decide
    // the tape's later, so the head is read where beforePersist sees it).
    const url = `${upstream.url}/gateway`;
    const bodies = [
      ' {"model":"gpt-x","input":"é","user":"u1","stream":true}',
      '[{"model":"not-an-object"}]',
      'model=plain-text',
    ];
    for (const redact of [{}, { bodyPaths: ['input'] }]) {
      const store = createMemoryStore();
      const heads: TapeHead[] = [];
      const recorder = createRecorder({
        store,
        redact,
        beforePersist: (head) => {
          heads.push(head);
          return undefined;
        },
      });
      for (const body of bodies) {
        const init = { method: 'POST', headers: { accept: 'text/event-stream' }, body };
        await readChunks((await recorder.fetch(url, init)).body);
      }
      await recorder.close();
      const { tapes } = await store.list({ order: 'asc' });
      expect(tapes.map((tape) => tape.requestHash)).toEqual(
        tapes.map((tape) =>
          requestHash({ method: 'POST', url: tape.request.url, body: tape.request.body }),
        ),
      );
      expect(tapes.map((tape) => tape.model)).toEqual(['gpt-x', undefined, undefined]);
      expect(heads.map((head) => head.family)).toEqual(['openresponses', 'sse', 'sse']);
      if ('bodyPaths' in redact) expect(tapes[0]!.request.body).not.toContain('é');
    }
  });

  it("with a filter, hands the filter a Request and the wrapped fetch the caller's own arguments", async () => {
    const store = createMemoryStore();
    const filtered: unknown[] = [];
    const recorder = createRecorder({
      store,
      filter: (request) => {
        filtered.push(request);
        return true;
      },
    });
    const received: Array<RequestInit | undefined> = [];
    const recordedFetch = recorder.wrap((input, init) => {
      received.push(init);
      return fetch(input, init);
    });
    const init = { method: 'POST', headers: { accept: 'text/event-stream' }, body: '{"a":1}' };
    await readChunks((await recordedFetch(`${upstream.url}/v2/call/stream`, init)).body);
    await recorder.close();
    expect(filtered[0]).toBeInstanceOf(Request);
    expect(received[0]).toBe(init);
    expect((await store.list()).tapes.map((tape) => tape.request.body)).toEqual(['{"a":1}']);
  });
});

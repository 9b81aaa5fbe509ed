import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  DEFAULT_IGNORED_BODY_FIELDS,
  normalizeUrl,
  omitFields,
  requestHash,
} from './request-hash.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
  });

  it('follows JSON.stringify for undefined, non-finite numbers and toJSON', () => {
    expect(canonicalJson({ a: undefined, b: Number.NaN, c: [undefined], d: new Date(0) })).toBe(
      '{"b":null,"c":[null],"d":"1970-01-01T00:00:00.000Z"}',
    );
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson('x"y')).toBe('"x\\"y"');
  });

  it('rejects circular structures instead of looping', () => {
    const value: Record<string, unknown> = {};
    value.self = value;
    expect(() => canonicalJson(value)).toThrow(/circular/);
  });

  it('equals JSON.stringify of the same value with keys sorted, and is order-independent', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        // Re-parsing gives the same value (as JSON), and shuffling keys does not change the text.
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        const reversed = JSON.parse(JSON.stringify(value), (_key, inner) =>
          inner && typeof inner === 'object' && !Array.isArray(inner)
            ? Object.fromEntries(Object.entries(inner).reverse())
            : inner,
        );
        expect(canonicalJson(reversed)).toBe(text);
      }),
    );
  });
});

describe('normalizeUrl', () => {
  it('gives each URL its own result when many are seen and some again (the cache)', () => {
    const urls = Array.from({ length: 300 }, (_, index) => index);
    for (const index of [...urls, ...urls.reverse()]) {
      expect(normalizeUrl(`HTTPS://X.test:443/p?b=${index}&a=1`)).toBe(
        `https://x.test/p?a=1&b=${index}`,
      );
    }
  });

  it('keeps origin and path, sorts the query and drops the fragment', () => {
    expect(normalizeUrl('HTTPS://API.Opper.ai:443/v2/call/stream?b=2&a=1&a=0#frag')).toBe(
      'https://api.opper.ai/v2/call/stream?a=0&a=1&b=2',
    );
    expect(normalizeUrl('http://127.0.0.1:8080/v1/responses')).toBe(
      'http://127.0.0.1:8080/v1/responses',
    );
  });

  it('handles a path-only URL', () => {
    expect(normalizeUrl('/v1/chat/completions?z=1&y=2')).toBe('/v1/chat/completions?y=2&z=1');
  });
});

describe('requestHash', () => {
  const url = 'https://openrouter.ai/api/v1/responses';

  // Tapes on disk carry this hash and replays recompute it: it must never change silently.
  it('gives the same hashes as the tapes already recorded', () => {
    expect(
      requestHash({
        method: 'post',
        url: 'https://OpenRouter.ai:443/api/v1/responses?b=2&a=1#x',
        body: '{"model":"m","input":"é 😀","user":"u"}',
      }),
    ).toBe('4ee451985254de0c9c2d80ec99581c33090f7987733ed30e0f5347eaa26b484c');
    expect(requestHash({ method: 'GET', url: '/v2/call/stream?q=1', body: null })).toBe(
      '6e770f54dd6658eb91a515cd1add0aa92dc55ecf2bd5f42cf861d1435ee0a9f6',
    );
    expect(
      requestHash({
        method: 'POST',
        url: 'https://api.opper.ai/v2/call/stream',
        body: 'plain text é',
      }),
    ).toBe('9a5316196045dfed0dd6fc6f35a1870d4c59c7de88c42a2754c3fbb135dd1377');
  });

  it('is a 64-hex sha256 and deterministic', () => {
    const hash = requestHash({ method: 'POST', url, body: '{"model":"m","input":"hi"}' });
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(requestHash({ method: 'POST', url, body: '{"model":"m","input":"hi"}' })).toBe(hash);
  });

  it('ignores key order, whitespace, method case, query order and the default volatile fields', () => {
    const a = requestHash({
      method: 'post',
      url: `${url}?b=1&a=2`,
      body: '{"model":"m","input":"hi","user":"u1","metadata":{"run":"1"}}',
    });
    const b = requestHash({
      method: 'POST',
      url: `${url}?a=2&b=1`,
      body: '{ "input": "hi", "model": "m", "user": "u2", "prompt_cache_key": "k", "safety_identifier": "s", "parent_span_id": "p" }',
    });
    expect(a).toBe(b);
  });

  it('changes when the method, path or a meaningful body field changes', () => {
    const base = requestHash({ method: 'POST', url, body: '{"model":"m","input":"hi"}' });
    expect(requestHash({ method: 'PUT', url, body: '{"model":"m","input":"hi"}' })).not.toBe(base);
    expect(
      requestHash({ method: 'POST', url: `${url}/x`, body: '{"model":"m","input":"hi"}' }),
    ).not.toBe(base);
    expect(requestHash({ method: 'POST', url, body: '{"model":"m","input":"ho"}' })).not.toBe(base);
  });

  it('lets the caller replace the ignored fields, including nested paths', () => {
    const one = { method: 'POST', url, body: '{"input":"hi","tags":{"run":"1","app":"a"}}' };
    const two = { method: 'POST', url, body: '{"input":"hi","tags":{"run":"2","app":"a"}}' };
    expect(requestHash(one)).not.toBe(requestHash(two));
    const options = { ignoreBodyFields: [...DEFAULT_IGNORED_BODY_FIELDS, 'tags.run'] };
    expect(requestHash(one, options)).toBe(requestHash(two, options));
    // With no ignored fields, `user` counts again.
    expect(
      requestHash({ method: 'POST', url, body: '{"user":"a"}' }, { ignoreBodyFields: [] }),
    ).not.toBe(
      requestHash({ method: 'POST', url, body: '{"user":"b"}' }, { ignoreBodyFields: [] }),
    );
  });

  it('hashes non-JSON bodies as raw text and treats bytes, text and parsed bodies alike', () => {
    const text = requestHash({ method: 'POST', url, body: 'not json {' });
    expect(requestHash({ method: 'POST', url, body: 'not json {' })).toBe(text);
    expect(requestHash({ method: 'POST', url, body: 'not json  {' })).not.toBe(text);
    const json = requestHash({ method: 'POST', url, body: '{"a":1}' });
    expect(requestHash({ method: 'POST', url, body: new TextEncoder().encode('{"a":1}') })).toBe(
      json,
    );
    expect(requestHash({ method: 'POST', url, body: { a: 1 } })).toBe(json);
    expect(requestHash({ method: 'GET', url, body: null })).toBe(
      requestHash({ method: 'GET', url }),
    );
  });

  it('does not mutate the body it is given', () => {
    const body = { input: 'hi', user: 'u', nested: { keep: 1 } };
    requestHash({ method: 'POST', url, body }, { ignoreBodyFields: ['user', 'nested.keep'] });
    expect(body).toEqual({ input: 'hi', user: 'u', nested: { keep: 1 } });
  });
});

describe('omitFields', () => {
  it('drops dotted paths through objects and arrays without mutating the input', () => {
    const input = { model: 'm', metadata: { trace: 1, keep: 2 }, input: [{ id: 'a', text: 't' }] };
    const snapshot = JSON.stringify(input);
    expect(omitFields(input, ['metadata.trace', 'input.0.id', 'absent.path'])).toEqual({
      model: 'm',
      metadata: { keep: 2 },
      input: [{ text: 't' }],
    });
    expect(JSON.stringify(input)).toBe(snapshot);
    expect(omitFields('text', ['a'])).toBe('text');
  });
});

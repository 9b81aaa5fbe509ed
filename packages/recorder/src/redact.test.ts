import { describe, expect, it } from 'vitest';
import { REDACTED, redactHeaders, redactJsonBody, redactRequest, redactUrl } from './redact.js';

describe('redactHeaders', () => {
  it('keeps the name and replaces the value of every credential header', () => {
    expect(
      redactHeaders({
        Authorization: 'Bearer sk-live-123',
        'x-goog-api-key': 'k',
        'X-Session-Token': 't',
        cookie: 'sid=1',
        'content-type': 'application/json',
      }),
    ).toEqual({
      Authorization: REDACTED,
      'x-goog-api-key': REDACTED,
      'X-Session-Token': REDACTED,
      cookie: REDACTED,
      'content-type': 'application/json',
    });
  });
});

describe('redactUrl', () => {
  it('redacts sensitive query parameters and URL passwords, leaving the rest as written', () => {
    expect(
      redactUrl(
        'https://user:pw@api.test/v1/x?api_key=sk-1&q=a%20b&Access-Token=t&key&page=2#frag',
      ),
    ).toBe(
      `https://user:${REDACTED}@api.test/v1/x?api_key=${REDACTED}&q=a%20b&Access-Token=${REDACTED}&key&page=2#frag`,
    );
    expect(redactUrl('http://127.0.0.1/a?session=s', { extraNames: ['SESSION'] })).toBe(
      `http://127.0.0.1/a?session=${REDACTED}`,
    );
    expect(redactUrl('http://127.0.0.1/plain')).toBe('http://127.0.0.1/plain');
  });
});

describe('redactJsonBody', () => {
  it('replaces values at dotted paths, with * for any key or index', () => {
    const body = JSON.stringify({
      input: [
        { role: 'user', content: 'my card is 4242' },
        { role: 'user', content: 'x' },
      ],
      metadata: { email: 'a@b.test', plan: 'pro' },
    });
    expect(JSON.parse(redactJsonBody(body, ['input.*.content', 'metadata.email']))).toEqual({
      input: [
        { role: 'user', content: REDACTED },
        { role: 'user', content: REDACTED },
      ],
      metadata: { email: REDACTED, plan: 'pro' },
    });
    expect(redactJsonBody(body, ['missing.path'])).toBe(body);
    expect(redactJsonBody('not json', ['a'])).toBe('not json');
    expect(redactJsonBody('not json', ['*'])).toBe(REDACTED);
  });
});

describe('redactRequest', () => {
  it('applies the defaults and the configured extras together', () => {
    expect(
      redactRequest(
        {
          method: 'POST',
          url: 'http://127.0.0.1/v1?token=abc',
          headers: { authorization: 'Bearer k', 'x-tenant': 'acme', accept: 'text/event-stream' },
          body: '{"user":"u1","input":"hi"}',
        },
        { headers: ['x-tenant'], bodyPaths: ['user'] },
      ),
    ).toEqual({
      method: 'POST',
      url: `http://127.0.0.1/v1?token=${REDACTED}`,
      headers: { authorization: REDACTED, 'x-tenant': REDACTED, accept: 'text/event-stream' },
      body: `{"user":"${REDACTED}","input":"hi"}`,
    });
  });
});

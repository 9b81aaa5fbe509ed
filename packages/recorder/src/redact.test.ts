import { describe, expect, it } from 'vitest';
import { REDACTED, redactHeaders } from './redact.js';

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

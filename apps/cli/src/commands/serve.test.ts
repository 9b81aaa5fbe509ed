import { describe, expect, it } from 'vitest';
import { pathAndQuery } from './serve.js';

describe('pathAndQuery', () => {
  it('keeps the path and the sorted query, dropping origin and fragment', () => {
    expect(pathAndQuery(new URL('http://127.0.0.1:9/api/v1/responses?b=2&a=1#x'))).toBe(
      '/api/v1/responses?a=1&b=2',
    );
    expect(pathAndQuery(new URL('https://openrouter.ai/api/v1/responses'))).toBe(
      '/api/v1/responses',
    );
  });

  it("gives the recorded upstream's URL and the local server's the same key", () => {
    expect(pathAndQuery(new URL('https://api.opper.ai/v2/call/stream?z=1&y=%20'))).toBe(
      pathAndQuery(new URL('http://127.0.0.1:41234/v2/call/stream?y=+&z=1')),
    );
  });
});

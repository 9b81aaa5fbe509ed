import { describe, expect, it } from 'vitest';
import { upstreamUrl } from './proxy.js';

describe('upstreamUrl', () => {
  it('keeps the upstream path prefix and the incoming path and query', () => {
    expect(upstreamUrl('https://openrouter.ai/api', '/v1/responses?x=1').toString()).toBe(
      'https://openrouter.ai/api/v1/responses?x=1',
    );
    expect(upstreamUrl('https://api.opper.ai/', '/v2/call/stream').toString()).toBe(
      'https://api.opper.ai/v2/call/stream',
    );
  });

  it('never lets the incoming path change the upstream origin', () => {
    expect(upstreamUrl('http://127.0.0.1:9000', '//evil.example/x').origin).toBe(
      'http://127.0.0.1:9000',
    );
  });
});

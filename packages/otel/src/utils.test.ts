import { describe, expect, it } from 'vitest';
import { jaegerTraceUrl } from './utils.js';

describe('jaegerTraceUrl', () => {
  it('links the trace and highlights the span', () => {
    expect(
      jaegerTraceUrl({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' }),
    ).toBe('http://localhost:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736?uiFind=00f067aa0ba902b7');
  });
});

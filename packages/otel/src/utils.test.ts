import { describe, expect, it } from 'vitest';
import { setJsonPath } from './stream-span.js';
import { createGapStatistics, describeRequest, jaegerTraceUrl } from './utils.js';

describe('jaegerTraceUrl', () => {
  it('links the trace and highlights the span', () => {
    expect(
      jaegerTraceUrl({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' }),
    ).toBe('http://localhost:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736?uiFind=00f067aa0ba902b7');
  });
});

describe('createGapStatistics', () => {
  it('is exact for small streams', () => {
    const stats = createGapStatistics();
    for (const gap of [5, 1, 3, 2, 4, 100, 0, 0, 6, 7]) stats.add(gap);
    expect(stats.count).toBe(10);
    expect(stats.maxMs).toBe(100);
    expect(stats.meanMs).toBe(12.8);
    expect(stats.quantile(0.5)).toBe(3);
    expect(stats.quantile(0.95)).toBe(100);
  });

  it('stays within 5 % on huge streams without keeping every gap', () => {
    const stats = createGapStatistics();
    // 100,000 gaps, uniform over 1..100 ms: p50 ≈ 50, p95 ≈ 95.
    for (let index = 0; index < 100_000; index += 1) stats.add(1 + (index % 100));
    expect(Math.abs(stats.quantile(0.5) - 50) / 50).toBeLessThan(0.05);
    expect(Math.abs(stats.quantile(0.95) - 95) / 95).toBeLessThan(0.05);
    expect(stats.maxMs).toBe(100);
    expect(stats.meanMs).toBeCloseTo(50.5, 6);
  });

  it('reports zero gaps (events in one chunk) as zero', () => {
    const stats = createGapStatistics();
    for (let index = 0; index < 2_000; index += 1) stats.add(0);
    expect(stats.quantile(0.5)).toBe(0);
    expect(stats.quantile(0.95)).toBe(0);
  });
});

describe('describeRequest', () => {
  it('reads server, port, model and whether it streams', () => {
    expect(
      describeRequest({
        url: 'https://api.opper.ai/v2/call/stream',
        body: '{"name":"f","model":"m"}',
      }),
    ).toEqual({
      serverAddress: 'api.opper.ai',
      serverPort: 443,
      path: '/v2/call/stream',
      model: 'm',
      functionName: 'f',
      looksStreaming: true,
    });
    expect(
      describeRequest({ url: 'http://127.0.0.1:8080/v1/responses', body: 'not json' }),
    ).toEqual({
      serverAddress: '127.0.0.1',
      serverPort: 8080,
      path: '/v1/responses',
      looksStreaming: false,
    });
  });
});

describe('setJsonPath', () => {
  it('folds Opper deltas by json_path', () => {
    let value: unknown;
    value = setJsonPath(value, 'people[0].name', 'Ada');
    value = setJsonPath(value, 'people[0].name', ' Lovelace');
    value = setJsonPath(value, 'people[1].age', 36);
    expect(value).toEqual({ people: [{ name: 'Ada Lovelace' }, { age: 36 }] });
  });
});

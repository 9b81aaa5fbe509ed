// Run by use-tapes.test.ts in a nested vitest: the miss must fail the test that made it.
import { createMemoryStore } from '@tapedeck/recorder';
import { expect, it } from 'vitest';
import { useTapes } from '../../src/vitest.js';

useTapes({ store: createMemoryStore() });

it('makes a request no tape matches', async () => {
  const response = await fetch('http://llm.test/v1/responses', {
    method: 'POST',
    body: JSON.stringify({ model: 'gpt-4o-mini', input: 'hi', stream: true }),
  });
  expect(response.status).toBe(404);
});

it('makes no request', () => {
  expect(1).toBe(1);
});

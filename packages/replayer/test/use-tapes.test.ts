import { fileURLToPath } from 'node:url';
import { createMemoryStore } from '@tapedeck/recorder';
import { describe, expect, it } from 'vitest';
import { startVitest } from 'vitest/node';
import { useTapes } from '../src/vitest.js';
import { buildTape, readFixture } from './helpers.js';
import { consume, requestFor } from './sdk-clients.js';

const origin = 'http://llm.test';
const store = createMemoryStore();
const { url, body } = requestFor('opper', origin);
await store.put(
  buildTape({
    raw: readFixture('opper-text.sse'),
    family: 'opper',
    url,
    body: JSON.stringify(body),
  }),
);

describe('useTapes', () => {
  useTapes({ store });

  it('replays tapes to a real client in every test of the file', async () => {
    const result = await consume('opper', origin);
    expect(result.error).toBeUndefined();
    expect(result.events).toHaveLength(8);
  });

  it('fails the test that made an unmatched request, and only that one', async () => {
    const root = fileURLToPath(new URL('./__fixtures__/', import.meta.url));
    const packages = fileURLToPath(new URL('../../', import.meta.url));
    const vitest = await startVitest(
      'test',
      [],
      {
        config: false,
        root,
        include: ['use-tapes.fixture.ts'],
        watch: false,
        reporters: [{}],
        silent: true,
      },
      {
        resolve: {
          alias: [{ find: /^@tapedeck\/([a-z]+)$/, replacement: `${packages}$1/src/index.ts` }],
        },
      },
    );
    const results = vitest.state
      .getFiles()
      .flatMap((file) => file.tasks)
      .map((task) => ({
        name: task.name,
        state: task.result?.state,
        error: task.result?.errors?.[0]?.message ?? '',
      }));
    await vitest.close();
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ name: 'makes a request no tape matches', state: 'fail' });
    expect(results[0]!.error).toContain('[tapedeck] 1 request(s) matched no tape:');
    expect(results[0]!.error).toContain('No tape matches POST http://llm.test/v1/responses');
    expect(results[1]).toMatchObject({ name: 'makes no request', state: 'pass' });
  });
});

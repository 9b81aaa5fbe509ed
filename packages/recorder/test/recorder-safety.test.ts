import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TapeStore } from '@tapedeck/types';
import { TapedeckError } from '@tapedeck/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore, createRecorder, createSqliteStore } from '../src/index.js';
import { concatBytes, expectSameBytes, readChunks, startUpstream } from './upstream.js';

const responsesBytes = new Uint8Array(
  readFileSync('/work/shared/formats/samples/openresponses-text.sse'),
);
const init = {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: '{"model":"m","input":"hi","stream":true}',
};

describe('fault isolation and secrets', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let directory: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tapedeck-safety-'));
    upstream = await startUpstream(() => ({
      headers: { 'set-cookie': 'upstream_session=SETCOOKIE-SECRET-77; HttpOnly' },
      chunks: [
        responsesBytes.subarray(0, 500),
        responsesBytes.subarray(500, 501),
        responsesBytes.subarray(501),
      ],
    }));
  });
  afterAll(async () => {
    await upstream.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const failingStores: Array<[string, () => TapeStore]> = [
    [
      'throws synchronously',
      () => {
        const fail = () => {
          throw new Error('disk full');
        };
        return { ...createMemoryStore(), put: fail, append: fail, finish: fail };
      },
    ],
    [
      'rejects on every write',
      () => {
        const fail = async () => {
          throw new Error('database is locked');
        };
        return { ...createMemoryStore(), put: fail, append: fail, finish: fail };
      },
    ],
    [
      'fails after the first write',
      () => {
        const store = createMemoryStore();
        return { ...store, append: async () => Promise.reject(new Error('SQLITE_FULL')) };
      },
    ],
  ];

  for (const [name, createStore] of failingStores) {
    it(`a store that ${name}: the consumer gets every byte; onError gets a STORE_FAILURE with the tape id`, async () => {
      const errors: TapedeckError[] = [];
      const recorder = createRecorder({
        store: createStore(),
        onError: (error) => {
          errors.push(error);
          throw new Error('and onError itself throws');
        },
      });
      const response = await recorder.fetch(`${upstream.url}/v1/responses`, init);
      expectSameBytes(concatBytes(await readChunks(response.body)), responsesBytes);
      await recorder.close();
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((error) => TapedeckError.isInstance(error))).toBe(true);
      expect(errors[0]?.code).toBe('STORE_FAILURE');
      expect(errors[0]?.context.tapeId).toMatch(/^[0-9a-f]{16}$/);
      expect(errors[0]?.message).toMatch(/^\[tapedeck\] recorder: store\.\w+ failed for tape/);
      expect(recorder.stats().errors).toBe(errors.length);
      expect(recorder.stats().byOutcome).toEqual({ complete: 1 });
    });
  }

  it('a closed SQLite store: the consumer still gets every byte', async () => {
    const store = createSqliteStore({ path: join(directory, 'closed.sqlite') });
    await store.close();
    const errors: TapedeckError[] = [];
    const recorder = createRecorder({ store, onError: (error) => errors.push(error) });
    const response = await recorder.fetch(`${upstream.url}/v1/responses`, init);
    expectSameBytes(concatBytes(await readChunks(response.body)), responsesBytes);
    await recorder.close();
    expect(errors.map((error) => error.code)).toEqual(['STORE_FAILURE']);
  });

  it('the database file holds neither the API key nor the cookies used', async () => {
    const path = join(directory, 'secrets.sqlite');
    const store = createSqliteStore({ path });
    const recorder = createRecorder({ store, redact: { bodyPaths: ['metadata.email'] } });
    const secrets = [
      'sk-live-APIKEY-SECRET-0123456789',
      'COOKIE-SECRET-42',
      'SETCOOKIE-SECRET-77',
      'QUERY-SECRET-99',
      'XAPIKEY-SECRET-5',
      'person@example.test',
    ];
    recorder.install();
    try {
      for (const url of [
        `${upstream.url}/v1/responses?api_key=QUERY-SECRET-99&page=1`,
        `${upstream.url}/v1/responses?session_token=QUERY-SECRET-99`,
      ]) {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            authorization: 'Bearer sk-live-APIKEY-SECRET-0123456789',
            cookie: 'session=COOKIE-SECRET-42',
            'x-api-key': 'XAPIKEY-SECRET-5',
            'content-type': 'application/json',
          },
          body: '{"model":"m","input":"hi","stream":true,"metadata":{"email":"person@example.test"}}',
        });
        expectSameBytes(concatBytes(await readChunks(response.body)), responsesBytes);
      }
    } finally {
      recorder.uninstall();
    }
    await recorder.close();
    const { tapes } = await store.list();
    expect(tapes).toHaveLength(2);
    const tape = await store.get(tapes[0]!.spanId);
    expect(tape?.request.headers).toMatchObject({
      authorization: '[REDACTED]',
      cookie: '[REDACTED]',
      'x-api-key': '[REDACTED]',
    });
    expect(tape?.response.headers['set-cookie']).toBe('[REDACTED]');
    expect(tape?.request.body).toContain('"email":"[REDACTED]"');
    expectSameBytes(tape!.raw, responsesBytes);
    await store.close();
    const files = readdirSync(directory).filter((name) => name.startsWith('secrets.sqlite'));
    expect(files).toContain('secrets.sqlite');
    for (const file of files) {
      const bytes = readFileSync(join(directory, file));
      for (const secret of secrets)
        expect(bytes.includes(secret), `${secret} in ${file}`).toBe(false);
    }
  });
});

import { TapedeckError } from '@tapedeck/types';
import type { RequestHandler } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createReplayHandlers, unmatchedResponse } from './handlers.js';
import type { ReplayMiss, ReplayOptions } from './types.js';

/** What {@link useTapes} returns. */
export interface UseTapes {
  /** The MSW server, for `server.use(...)` overrides inside a test. */
  server: ReturnType<typeof setupServer>;
  handlers: RequestHandler[];
}

/**
 * Replays tapes to every request made in this test file: starts an MSW server before the
 * file's tests, resets per-test overrides after each test, closes it after the file. With
 * `onUnmatched: 'error'` (the default) a request no tape matches fails the test it was made
 * in, with the `[tapedeck]` diff (the client also gets a 404 carrying it).
 *
 * @example
 * ```ts
 * import { createSqliteStore } from '@tapedeck/recorder';
 * import { useTapes } from '@tapedeck/replayer/vitest';
 * useTapes({ store: createSqliteStore({ path: 'test/tapes.sqlite' }) });
 * ```
 */
export function useTapes(options: ReplayOptions): UseTapes {
  const misses: ReplayMiss[] = [];
  const onUnmatched = options.onUnmatched ?? 'error';
  const handlers = createReplayHandlers({
    ...options,
    onUnmatched:
      onUnmatched === 'error'
        ? (miss) => {
            misses.push(miss);
            console.error(miss.message);
            return unmatchedResponse(miss);
          }
        : onUnmatched,
  });
  const server = setupServer(...handlers);
  beforeAll(() => {
    // Requests our handlers decline (filter) go on untouched.
    server.listen({ onUnhandledRequest: 'bypass' });
  });
  afterEach(() => {
    server.resetHandlers();
    if (misses.length === 0) return;
    const messages = misses.splice(0).map((miss) => miss.message);
    throw new TapedeckError({
      code: 'NO_MATCHING_TAPE',
      message: `${messages.length} request(s) matched no tape:\n${messages.join('\n\n')}`,
    });
  });
  afterAll(() => {
    server.close();
  });
  return { server, handlers };
}

import { describe, expect, it } from 'vitest';
import { createArrayStore } from '../test/helpers.js';
import { createReplayHandlers } from './handlers.js';
import type { ReplayOptions } from './types.js';

describe('createReplayHandlers options', () => {
  const store = createArrayStore([]);
  it.each([
    [
      { onUnmatched: 'ignore' },
      `onUnmatched must be 'error', 'warn', 'bypass' or a function, got "ignore"`,
    ],
    [{ order: 'newest' }, `order must be 'sequential' or 'latest', got "newest"`],
    [{ faults: { sequence: [{ type: 'drop' }, 'ok'] } }, 'fault {"type":"drop"} has no known type'],
    [{ timing: { speed: 0 } }, 'timing {"speed":0}: speed must be > 0'],
  ])('rejects %j at setup with a [tapedeck] message', (options, message) => {
    expect(() => createReplayHandlers({ store, ...(options as Partial<ReplayOptions>) })).toThrow(
      `[tapedeck] ${message}`,
    );
  });

  it('needs a store', () => {
    expect(() => createReplayHandlers({} as ReplayOptions)).toThrow(
      '[tapedeck] createReplayHandlers needs a `store`',
    );
  });
});

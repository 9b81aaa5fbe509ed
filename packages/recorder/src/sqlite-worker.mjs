// @ts-check
// The writer thread of the SQLite store: better-sqlite3 is synchronous, so every write runs here,
// off the event loop that serves the consumer's stream (reads run on the caller's thread). Plain JavaScript so Node 20 can
// load it from src/ (tests) and dist/ (built) alike.
import { parentPort, workerData } from 'node:worker_threads';
import { createTapeCore, openTapeDatabase, serializeError } from './sqlite-core.mjs';

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

/** @type {ReturnType<typeof createTapeCore> | undefined} */
let core;
try {
  core = createTapeCore(openTapeDatabase({ path: workerData.path, markIncomplete: false }));
  port.postMessage({ type: 'ready' });
} catch (error) {
  port.postMessage({ type: 'open-error', error: serializeError(error) });
}

port.on(
  'message',
  /** @param {{id: number; kind: 'write' | 'close'; operations?: any[]}} message */
  (message) => {
    if (!core) {
      port.postMessage({
        type: 'result',
        id: message.id,
        ok: false,
        error: { message: 'the tape database is not open', code: 'STORE_FAILURE' },
      });
      return;
    }
    try {
      if (message.kind === 'write') {
        const results = core.runBatch(/** @type {any[]} */ (message.operations));
        // A tick's arenas go back to the recorder (transferred) for its next ticks.
        /** @type {ArrayBuffer[]} */
        const transfer = [];
        for (const result of results) {
          if (result.ok && result.value?.arenas) transfer.push(...result.value.arenas);
        }
        port.postMessage({ type: 'result', id: message.id, ok: true, value: results }, transfer);
      } else {
        core.close();
        core = undefined;
        port.postMessage({ type: 'result', id: message.id, ok: true, value: undefined });
      }
    } catch (error) {
      port.postMessage({ type: 'result', id: message.id, ok: false, error: serializeError(error) });
    }
  },
);

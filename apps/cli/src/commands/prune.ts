import { formatMs } from '../format.js';
import type { CliIo } from '../io.js';
import { listAll, withStore } from '../store.js';

/** Options of `tapedeck prune`. */
export interface PruneOptions {
  db: string;
  olderThanMs: number;
  olderThanText: string;
  dryRun: boolean;
  json: boolean;
  now?: () => number;
}

/** Deletes tapes that started more than `olderThanMs` ago. */
export async function runPrune(io: CliIo, options: PruneOptions): Promise<void> {
  const cutoff = (options.now ?? Date.now)() - options.olderThanMs;
  const count = await withStore({ path: options.db, create: false }, async (store) =>
    options.dryRun
      ? (await listAll(store, { until: cutoff })).length
      : store.prune({ olderThan: cutoff }),
  );
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({ pruned: options.dryRun ? 0 : count, matched: count, olderThan: cutoff, dryRun: options.dryRun })}\n`,
    );
    return;
  }
  const verb = options.dryRun ? 'would prune' : 'pruned';
  io.stdout.write(
    `${verb} ${count} tape${count === 1 ? '' : 's'} older than ${options.olderThanText} (${formatMs(options.olderThanMs)})\n`,
  );
}

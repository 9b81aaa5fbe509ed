import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Tape } from '@tapedeck/types';
import cliProgress from 'cli-progress';
import { UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { findTape, listAll, withStore } from '../store.js';
import { type ExportFormat, exportTape } from '../tape-files.js';

/** Options of `tapedeck export`. */
export interface ExportOptions {
  db: string;
  ids: string[];
  all: boolean;
  sinceMs?: number;
  format: ExportFormat;
  out: string;
  json: boolean;
  now?: () => number;
}

/** Above this many tapes, export shows a progress bar on stderr. */
const PROGRESS_THRESHOLD = 5;

/** Writes tapes to files in `--out`, one (or for `sse`, two) per tape. */
export async function runExport(io: CliIo, options: ExportOptions): Promise<void> {
  if (options.ids.length === 0 && !options.all && options.sinceMs === undefined) {
    throw new UsageError('name the tapes to export: give ids, --all or --since <duration>');
  }
  const written: string[] = [];
  await withStore({ path: options.db, create: false }, async (store) => {
    const tapes: Array<() => Promise<Tape>> = [];
    for (const id of options.ids) {
      // Resolve every id first, so an unknown one fails before anything is written.
      const tape = await findTape(store, id, options.db);
      tapes.push(async () => tape);
    }
    if (options.all || options.sinceMs !== undefined) {
      const since =
        options.sinceMs === undefined ? undefined : (options.now ?? Date.now)() - options.sinceMs;
      const summaries = await listAll(store, { since, order: 'asc' });
      for (const summary of summaries) {
        if (options.ids.length > 0 && options.ids.includes(summary.spanId)) continue;
        tapes.push(async () => {
          const tape = await store.get(summary.spanId);
          if (!tape) throw new Error(`tape ${summary.spanId} disappeared while exporting`);
          return tape;
        });
      }
    }
    await mkdir(options.out, { recursive: true });
    const bar =
      tapes.length > PROGRESS_THRESHOLD
        ? new cliProgress.SingleBar(
            {
              stream: io.stderr,
              format: 'exporting [{bar}] {value}/{total} tapes',
              hideCursor: true,
              clearOnComplete: true,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
    bar?.start(tapes.length, 0);
    try {
      for (const load of tapes) {
        const tape = await load();
        for (const file of exportTape(tape, options.format)) {
          const path = join(options.out, file.name);
          await writeFile(path, file.contents);
          written.push(path);
        }
        bar?.increment();
      }
    } finally {
      bar?.stop();
    }
  });
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ format: options.format, files: written }, null, 2)}\n`);
    return;
  }
  for (const path of written) io.stdout.write(`${relative(io.cwd, path) || path}\n`);
  io.stderr.write(
    `[tapedeck] exported ${written.length} file${written.length === 1 ? '' : 's'} (${options.format}) to ${options.out}\n`,
  );
}

import type { StreamFamily, TapeState, TapeSummary } from '@tapedeck/types';
import { formatBytes, formatMs, formatTimestamp, renderTable } from '../format.js';
import type { CliIo } from '../io.js';
import { listAll, withStore } from '../store.js';

/** Options of `tapedeck ls`. */
export interface LsOptions {
  db: string;
  family?: StreamFamily;
  outcome?: TapeState;
  sinceMs?: number;
  url?: string;
  limit: number;
  json: boolean;
  now?: () => number;
}

/** Lists tapes newest first as a table, or as a JSON array with `--json`. */
export async function runLs(io: CliIo, options: LsOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const tapes = await withStore({ path: options.db, create: false }, (store) =>
    listAll(
      store,
      {
        family: options.family,
        outcome: options.outcome,
        since: options.sinceMs === undefined ? undefined : now() - options.sinceMs,
        urlContains: options.url,
      },
      options.limit,
    ),
  );
  if (options.json) {
    io.stdout.write(`${JSON.stringify(tapes, null, 2)}\n`);
    return;
  }
  if (tapes.length === 0) {
    io.stderr.write(
      '[tapedeck] no tapes match; record some with `tapedeck proxy` or `tapedeck demo`\n',
    );
    return;
  }
  io.stdout.write(`${renderTapeTable(io, tapes)}\n`);
}

/** The `ls` table. */
export function renderTapeTable(io: CliIo, tapes: TapeSummary[]): string {
  const { colors } = io;
  const outcomeColor = (outcome: TapeState) =>
    outcome === 'complete'
      ? colors.green(outcome)
      : outcome === 'recording'
        ? colors.cyan(outcome)
        : colors.red(outcome);
  return renderTable({
    headers: [
      'ID',
      'STARTED',
      'FAMILY',
      'MODEL',
      'OUTCOME',
      'EVENTS',
      'BYTES',
      'TTFT',
      'DURATION',
    ].map((header) => colors.bold(header)),
    align: ['left', 'left', 'left', 'left', 'left', 'right', 'right', 'right', 'right'],
    rows: tapes.map((tape) => [
      colors.yellow(tape.spanId),
      formatTimestamp(tape.startedAt),
      tape.family,
      tape.model ?? '-',
      outcomeColor(tape.outcome),
      String(tape.eventCount),
      formatBytes(tape.byteLength),
      formatMs(tape.firstEventMs),
      formatMs(tape.durationMs),
    ]),
  });
}

import { formatBytes, formatTimestamp, renderTable } from '../format.js';
import type { CliIo } from '../io.js';
import { withStore } from '../store.js';

/** Options of `tapedeck stats`. */
export interface StatsOptions {
  db: string;
  json: boolean;
}

/** Prints counts over the whole store. */
export async function runStats(io: CliIo, options: StatsOptions): Promise<void> {
  const stats = await withStore({ path: options.db, create: false }, (store) => store.stats());
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ database: options.db, ...stats }, null, 2)}\n`);
    return;
  }
  const { colors } = io;
  const lines = [
    `${colors.bold('database')}  ${options.db}`,
    `${colors.bold('tapes')}     ${stats.tapes}  (${stats.events} events, ${formatBytes(stats.bytes)})`,
  ];
  if (stats.oldestStartedAt !== undefined && stats.newestStartedAt !== undefined) {
    lines.push(
      `${colors.bold('span')}      ${formatTimestamp(stats.oldestStartedAt)} → ${formatTimestamp(stats.newestStartedAt)} UTC`,
    );
  }
  const breakdown = (title: string, counts: Partial<Record<string, number>>) => {
    const rows = Object.entries(counts)
      .filter((entry): entry is [string, number] => (entry[1] ?? 0) > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([name, count]) => [`  ${name}`, String(count)]);
    if (rows.length > 0) {
      lines.push(
        '',
        renderTable({ headers: [colors.bold(title), ''], rows, align: ['left', 'right'] }),
      );
    }
  };
  breakdown('by family', stats.byFamily);
  breakdown('by outcome', stats.byOutcome);
  io.stdout.write(`${lines.join('\n')}\n`);
}

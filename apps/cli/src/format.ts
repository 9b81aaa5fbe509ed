/** Small text formatters shared by the commands. */

/** `1.2 KB`, `3.4 MB`; bytes below 1 KB stay exact. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** `850 ms`, `1.25 s`, `2m 5s`; `-` when unknown. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m ${Math.round((ms % 60_000) / 1000)}s`;
}

/** Epoch ms as `2026-11-21 19:42:23` (UTC). */
export function formatTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19);
}

// ANSI colour codes do not take up columns.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Visible width of a string, ignoring colour codes. */
export function visibleWidth(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

/** Lays out rows as aligned columns; `align` marks numeric columns as right-aligned. */
export function renderTable({
  headers,
  rows,
  align = [],
}: {
  headers: string[];
  rows: string[][];
  align?: Array<'left' | 'right'>;
}): string {
  const widths = headers.map((header, column) =>
    Math.max(visibleWidth(header), ...rows.map((row) => visibleWidth(row[column] ?? ''))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => {
        const padding = ' '.repeat((widths[column] ?? 0) - visibleWidth(cell));
        return align[column] === 'right' ? padding + cell : cell + padding;
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Cuts text to `width` visible characters with an ellipsis, on one line. */
export function truncate(text: string, width: number): string {
  const oneLine = text.replace(/\r\n|\r|\n/g, '⏎');
  const characters = [...oneLine];
  if (characters.length <= width) return oneLine;
  return `${characters.slice(0, Math.max(0, width - 1)).join('')}…`;
}

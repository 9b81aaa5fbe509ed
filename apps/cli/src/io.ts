import { basename, relative } from 'node:path';
import type { Writable } from 'node:stream';
import picocolors from 'picocolors';

/** picocolors' formatters, enabled or not. */
export type Colors = ReturnType<typeof picocolors.createColors>;

/** Where a command reads its environment and writes its output. */
export interface CliIo {
  /** Data: tables, JSON, raw streams. */
  stdout: Writable & { isTTY?: boolean };
  /** Logs, progress and errors. */
  stderr: Writable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Colours for stdout. */
  colors: Colors;
  /** Colours for stderr. */
  errorColors: Colors;
}

/** Colours only on a TTY and never when `NO_COLOR` is set (https://no-color.org). */
export function colorsFor({
  stream,
  env,
}: {
  stream: { isTTY?: boolean };
  env: Record<string, string | undefined>;
}): Colors {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return picocolors.createColors(Boolean(stream.isTTY) && !noColor && env.TERM !== 'dumb');
}

/** Builds the io for this process. */
export function processIo(): CliIo {
  const env = process.env;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env,
    cwd: process.cwd(),
    colors: colorsFor({ stream: process.stdout, env }),
    errorColors: colorsFor({ stream: process.stderr, env }),
  };
}

/** Writes and waits for the stream to drain when its buffer is full. */
export async function writeData(stream: Writable, data: string | Uint8Array): Promise<void> {
  if (!stream.write(data)) {
    await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  }
}

/** Writes one line of a log to stderr. */
export function logLine(io: CliIo, line: string): void {
  io.stderr.write(`${line}\n`);
}

/**
 * How to run this CLI again from `cwd`: `tapedeck` when it was started through its bin link,
 * else `node <path to bin.js>` (as `pnpm demo` in the repo does).
 */
export function invocation({
  cwd,
  script = process.argv[1],
}: {
  cwd: string;
  script?: string;
}): string {
  if (!script || basename(script) === 'tapedeck') return 'tapedeck';
  return `node ${relative(cwd, script) || script}`;
}

/** Resolves on the first SIGINT or SIGTERM, so a long-running command can shut down cleanly. */
export function waitForShutdownSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

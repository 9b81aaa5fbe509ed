import { readFile } from 'node:fs/promises';
import type { Tape } from '@tapedeck/types';
import { failure } from '../errors.js';
import type { CliIo } from '../io.js';
import { withStore } from '../store.js';
import { parseHar, parseNdjson, parseSse } from '../tape-files.js';

/** Options of `tapedeck import`. */
export interface ImportOptions {
  db: string;
  files: string[];
  json: boolean;
}

async function read(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw failure(
      'INVALID_ARGUMENT',
      `cannot read ${path} (${reason}); nothing was imported`,
      { path },
      error,
    );
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Reads every tape in one export file (ndjson, HAR, or `.sse` with its sidecar). */
export async function readTapeFile(path: string): Promise<Tape[]> {
  if (path.endsWith('.sse.json')) {
    const ssePath = path.slice(0, -'.json'.length);
    return parseSse(ssePath, await read(ssePath), (await read(path)).toString('utf8'));
  }
  if (path.endsWith('.sse'))
    return parseSse(path, await read(path), await readOptional(`${path}.json`));
  const bytes = await read(path);
  if (path.endsWith('.har')) return parseHar(path, bytes.toString('utf8'));
  if (path.endsWith('.ndjson') || path.endsWith('.jsonl')) {
    return parseNdjson(path, bytes.toString('utf8'));
  }
  // Unknown extension: sniff a HAR's `{"log"` opening, otherwise try ndjson.
  const text = bytes.toString('utf8');
  return /^\s*\{\s*"log"/.test(text) ? parseHar(path, text) : parseNdjson(path, text);
}

/** Imports tapes from export files; every file is validated before anything is written. */
export async function runImport(io: CliIo, options: ImportOptions): Promise<void> {
  const seen = new Set<string>();
  const tapes: Tape[] = [];
  for (const file of options.files) {
    // `x.sse` and `x.sse.json` are one tape.
    const key = file.endsWith('.sse.json') ? file.slice(0, -'.json'.length) : file;
    if (seen.has(key)) continue;
    seen.add(key);
    tapes.push(...(await readTapeFile(file)));
  }
  await withStore({ path: options.db, create: true }, async (store) => {
    for (const tape of tapes) await store.put(tape);
  });
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({ imported: tapes.map((tape) => tape.spanId), database: options.db }, null, 2)}\n`,
    );
    return;
  }
  for (const tape of tapes) io.stdout.write(`${tape.spanId}\n`);
  io.stderr.write(
    `[tapedeck] imported ${tapes.length} tape${tapes.length === 1 ? '' : 's'} into ${options.db}\n`,
  );
}

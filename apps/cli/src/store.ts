import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { createSqliteStore } from '@tapedeck/recorder';
import { type Tape, TapedeckError, type TapeStore, type TapeSummary } from '@tapedeck/types';
import { failure } from './errors.js';

/**
 * Opens the tape database. Readers pass `create: false` so a wrong path fails with a clear
 * message instead of leaving an empty database behind.
 */
export async function openStore({
  path,
  create,
}: {
  path: string;
  create: boolean;
}): Promise<TapeStore> {
  if (!existsSync(path)) {
    if (!create) {
      throw failure(
        'STORE_FAILURE',
        `no tape database at ${path}: record one with \`tapedeck proxy\` or \`tapedeck demo\`, or point --db / TAPEDECK_DB at an existing file`,
        { path },
      );
    }
  } else {
    if (statSync(path).isDirectory()) {
      throw failure(
        'STORE_FAILURE',
        `${path} is a directory, not a tape database: pass --db <file>`,
        {
          path,
        },
      );
    }
    try {
      accessSync(path, create ? constants.R_OK | constants.W_OK : constants.R_OK);
    } catch (error) {
      throw failure(
        'STORE_FAILURE',
        `cannot ${create ? 'read and write' : 'read'} the tape database ${path} (${(error as NodeJS.ErrnoException).code ?? 'access denied'}): check its permissions`,
        { path },
        error,
      );
    }
  }
  try {
    return createSqliteStore({ path });
  } catch (error) {
    throw describeStoreError(error, path);
  }
}

/** Turns a store or SQLite failure into one line naming the database and what to do. */
export function describeStoreError(error: unknown, path: string): TapedeckError {
  if (TapedeckError.isInstance(error)) {
    if (error.message.includes(path)) return error;
    return failure(
      error.code,
      `${error.message.replace(/^\[tapedeck\]\s*/, '')} (database ${path})`,
      { ...error.context, path },
      error,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code ?? '';
  if (
    code === 'SQLITE_NOTADB' ||
    code === 'SQLITE_CORRUPT' ||
    /not a database|malformed/i.test(message)
  ) {
    return failure(
      'STORE_FAILURE',
      `${path} is not a tapedeck database or is corrupt (${message}): point --db at a tapedeck.sqlite or move this file away`,
      { path },
      error,
    );
  }
  return failure('STORE_FAILURE', `tape database ${path} failed: ${message}`, { path }, error);
}

/** Runs `work` with an open store and always closes it. */
export async function withStore<T>(
  options: { path: string; create: boolean },
  work: (store: TapeStore) => Promise<T>,
): Promise<T> {
  const store = await openStore(options);
  try {
    return await work(store).catch((error: unknown) => {
      throw TapedeckError.isInstance(error) ? error : describeStoreError(error, options.path);
    });
  } finally {
    await store.close();
  }
}

/** Every tape summary matching a query, following cursors up to `limit`. */
export async function listAll(
  store: TapeStore,
  query: Parameters<TapeStore['list']>[0] = {},
  limit = Number.POSITIVE_INFINITY,
): Promise<TapeSummary[]> {
  const tapes: TapeSummary[] = [];
  let cursor: string | undefined;
  do {
    const pageSize = Math.min(500, limit - tapes.length);
    const page = await store.list({ ...query, limit: pageSize, cursor });
    tapes.push(...page.tapes);
    cursor = page.nextCursor;
  } while (cursor !== undefined && tapes.length < limit);
  return tapes;
}

/** The ids a tape answers to. */
export function idsOf(tape: TapeSummary): string[] {
  return [tape.spanId, tape.upstreamSpanId, tape.responseId].filter(
    (id): id is string => typeof id === 'string' && id !== '',
  );
}

/**
 * Finds a tape by spanId, Opper span_id, response id or a unique prefix of one; an unknown id
 * fails with the closest ids so a typo is easy to fix.
 */
export async function findTape(store: TapeStore, id: string, path: string): Promise<Tape> {
  const exact = await store.get(id);
  if (exact) return exact;
  const summaries = await listAll(store, {}, 10_000);
  if (id.length >= 4) {
    const byPrefix = summaries.filter((tape) => idsOf(tape).some((known) => known.startsWith(id)));
    if (byPrefix.length === 1) {
      const tape = await store.get((byPrefix[0] as TapeSummary).spanId);
      if (tape) return tape;
    }
    if (byPrefix.length > 1) {
      throw failure(
        'TAPE_NOT_FOUND',
        `"${id}" matches ${byPrefix.length} tapes (${byPrefix
          .slice(0, 5)
          .map((tape) => tape.spanId)
          .join(', ')}): give more of the id`,
        { tapeId: id, path },
      );
    }
  }
  const closest = closestIds(
    id,
    summaries.flatMap((tape) => idsOf(tape)),
  );
  const hint =
    closest.length > 0
      ? `closest: ${closest.join(', ')}`
      : summaries.length === 0
        ? 'the database has no tapes yet'
        : 'no similar ids';
  throw failure(
    'TAPE_NOT_FOUND',
    `no tape "${id}" in ${path} (${hint}); run \`tapedeck ls\` to list tapes`,
    { tapeId: id, path },
  );
}

/** The `count` known ids nearest to `id` by edit distance. */
export function closestIds(id: string, known: string[], count = 3): string[] {
  return [...new Set(known)]
    .map((candidate) => ({ candidate, distance: editDistance(id, candidate) }))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, count)
    .map(({ candidate }) => candidate);
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(
        Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

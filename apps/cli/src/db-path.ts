import { resolve } from 'node:path';

/** The database path: `--db`, else `TAPEDECK_DB`, else `./tapedeck.sqlite`, from `cwd`. */
export function databasePath({
  db,
  env,
  cwd,
}: {
  db?: string;
  env: Record<string, string | undefined>;
  cwd: string;
}): string {
  return resolve(cwd, db || env.TAPEDECK_DB || 'tapedeck.sqlite');
}

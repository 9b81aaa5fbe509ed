// tsc does not copy plain JavaScript: the writer worker and the SQL core it shares with the main
// thread are .mjs files (Node 20 cannot load a TypeScript worker), so copy them beside the output.
import { copyFileSync } from 'node:fs';

for (const file of [
  'sqlite-core.mjs',
  'sqlite-core.d.mts',
  'sqlite-worker.mjs',
  'sse-framer.mjs',
  'sse-framer.d.mts',
]) {
  copyFileSync(
    new URL(`../src/${file}`, import.meta.url),
    new URL(`../dist/${file}`, import.meta.url),
  );
}

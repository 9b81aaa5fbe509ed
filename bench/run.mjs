// Runs every bench/*.bench.ts (or those whose name contains an argument) one after another,
// each in its own process so one benchmark's heap and JIT state do not colour the next.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => filters.length === 0 || filters.some((filter) => name.includes(filter)))
  .sort();

let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file}`);
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', `${dir}${file}`], {
    stdio: 'inherit',
    // bench/tsconfig.json has no `paths`: with the root one, tsx would send the built packages'
    // imports of each other (@tapedeck/types, @tapedeck/sse) to their TypeScript sources.
    env: { ...process.env, TSX_TSCONFIG_PATH: `${dir}tsconfig.json` },
  });
  if (result.status !== 0) failed += 1;
}
if (files.length === 0) console.log('no benchmark matched', filters.join(' '));
process.exitCode = failed ? 1 : 0;

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
  });
  if (result.status !== 0) failed += 1;
}
if (files.length === 0) console.log('no benchmark matched', filters.join(' '));
process.exitCode = failed ? 1 : 0;

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * The cli tests run the built CLI as a subprocess, so build it and its workspace dependencies
 * first; turbo's cache makes this quick when nothing changed.
 */
export default function setup(): void {
  try {
    execFileSync(
      'npx',
      [
        '-y',
        'pnpm@10.34.9',
        'exec',
        'turbo',
        'run',
        'build',
        '--filter=tapedeck...',
        '--output-logs=errors-only',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
    );
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`building the CLI for its tests failed:\n${stdout}\n${stderr}`);
  }
}

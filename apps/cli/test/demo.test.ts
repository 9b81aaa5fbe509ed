import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

const dir = tempDir('tapedeck-demo-');
afterAll(() => dir.remove());

describe('demo', () => {
  it('runs twice in a row from a clean directory, writing ./tapedeck.sqlite', async () => {
    for (const run of [1, 2]) {
      const result = await runCli(['demo'], { cwd: dir.path, timeoutMs: 60_000 });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const text = result.stdout.toString();
      expect(text).toContain('✓ live and replay agree');
      expect(text).toMatch(/7 tapes written to .*tapedeck\.sqlite/);
      expect(text).toMatch(/tapedeck show [0-9a-f]{16}/);
      const listed = await runCli(['ls', '--json', '--limit', '100'], { cwd: dir.path });
      expect(listed.code).toBe(0);
      const tapes = JSON.parse(listed.stdout.toString()) as Array<{ family: string }>;
      expect(tapes).toHaveLength(7 * run);
      expect(new Set(tapes.map((tape) => tape.family))).toEqual(
        new Set(['opper', 'openresponses', 'chat-completions']),
      );
    }
    expect(existsSync(join(dir.path, 'tapedeck.sqlite'))).toBe(true);
    // The demo's API key was redacted before anything reached the database.
    for (const name of readdirSync(dir.path)) {
      expect(readFileSync(join(dir.path, name)).includes('sk-demo-not-a-real-key')).toBe(false);
    }
  });
});

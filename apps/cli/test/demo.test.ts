import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listenOnLoopback } from '../src/loopback.js';
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
      // Started as `node …/dist/bin.js`, so the next steps say how to run it that way.
      expect(text).toMatch(/node \S*dist\/bin\.js show [0-9a-f]{16}/);
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

  it('exports its spans and prints Jaeger links when an OTLP collector answers', async () => {
    const bodies: string[] = [];
    const collector = createServer((request, response) => {
      const parts: Buffer[] = [];
      request.on('data', (part: Buffer) => parts.push(part));
      request.on('end', () => {
        bodies.push(Buffer.concat(parts).toString('utf8'));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const endpoint = await listenOnLoopback(collector, 0);
    try {
      const db = join(dir.path, 'traced.sqlite');
      const result = await runCli(['demo', '--endpoint', endpoint, '--db', db], {
        cwd: dir.path,
        timeoutMs: 60_000,
      });
      expect(result.code).toBe(0);
      const text = result.stdout.toString();
      expect(text).toContain(`spans exported to ${endpoint}/v1/traces`);
      const links = text.match(
        /http:\/\/localhost:16686\/trace\/[0-9a-f]{32}\?uiFind=[0-9a-f]{16}/g,
      );
      expect(links?.length).toBeGreaterThanOrEqual(7);
      // Every recorded tape's span reached the collector.
      const listed = JSON.parse(
        (await runCli(['ls', '--json', '--db', db], { cwd: dir.path })).stdout.toString(),
      );
      const exported = bodies.join('\n');
      for (const tape of listed as Array<{ spanId: string }>)
        expect(exported).toContain(tape.spanId);
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});

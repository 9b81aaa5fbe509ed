import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tape } from '@tapedeck/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTape } from '../src/tape-files.js';
import { harSchema, opperTape, runCli, tempDir } from './helpers.js';

const dir = tempDir();
const db = join(dir.path, 'tapes.sqlite');
const tapes = [
  opperTape({ spanId: '1a2b3c4d5e6f7081', startedAt: Date.now() - 60_000 }),
  opperTape({ spanId: '9f8e7d6c5b4a3921', startedAt: Date.now() - 3 * 86_400_000, words: ['Hi'] }),
];

function writeExport(tape: Tape, name: string): string {
  const [file] = exportTape(tape, 'ndjson');
  const path = join(dir.path, name);
  writeFileSync(path, file!.contents);
  return path;
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(async () => {
  const files = tapes.map((tape, index) => writeExport(tape, `seed-${index}.ndjson`));
  const result = await runCli(['import', ...files, '--db', db], { cwd: dir.path });
  expect(result.stderr).toContain('imported 2 tapes');
  expect(result.code).toBe(0);
});
afterAll(() => dir.remove());

describe('ls', () => {
  it('lists tapes newest first as JSON', async () => {
    const result = await runCli(['ls', '--json', '--db', db], { cwd: dir.path });
    expect(result.code).toBe(0);
    const listed = JSON.parse(result.stdout.toString());
    expect(listed.map((tape: { spanId: string }) => tape.spanId)).toEqual([
      '1a2b3c4d5e6f7081',
      '9f8e7d6c5b4a3921',
    ]);
    expect(listed[0]).toMatchObject({ family: 'opper', eventCount: 6, outcome: 'complete' });
  });

  it('filters by --since and prints a table with the columns', async () => {
    const result = await runCli(['ls', '--since', '1h'], {
      cwd: dir.path,
      env: { TAPEDECK_DB: db },
    });
    expect(result.code).toBe(0);
    const [header, ...rows] = result.stdout.toString().trim().split('\n');
    expect(header?.split(/\s+/)).toEqual([
      'ID',
      'STARTED',
      'FAMILY',
      'MODEL',
      'OUTCOME',
      'EVENTS',
      'BYTES',
      'TTFT',
      'DURATION',
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^1a2b3c4d5e6f7081 .* opper +demo-model +complete +6 /);
    // NO_COLOR is set by the helper: no escape codes.
    expect(result.stdout.includes(27)).toBe(false);
  });
});

describe('show', () => {
  it('assembles the output and reports counts and timing', async () => {
    const result = await runCli(['show', '1a2b3c4d5e6f7081', '--events', '--db', db], {
      cwd: dir.path,
    });
    expect(result.code).toBe(0);
    const text = result.stdout.toString();
    expect(text).toContain('The capital is Paris.');
    expect(text).toMatch(/chunk_type:text +5/);
    expect(text).toMatch(/TTFT 20 ms · gaps p50 5 ms · p95 5 ms · max 5 ms/);
    expect(text).toContain('timeline');
    expect(text).toMatch(/^5 +\+45 ms/m);
  });

  it('finds a tape by Opper span_id and by a unique prefix, and prints JSON with bytes', async () => {
    const byPrefix = await runCli(['show', '9f8e7d', '--json', '--db', db], { cwd: dir.path });
    expect(byPrefix.code).toBe(0);
    const shown = JSON.parse(byPrefix.stdout.toString());
    expect(shown.spanId).toBe('9f8e7d6c5b4a3921');
    expect(Buffer.from(shown.rawBase64, 'base64').equals(Buffer.from(tapes[1]!.raw))).toBe(true);
    expect(shown.events).toEqual(tapes[1]!.events);
    expect(shown.timing.firstEventMs).toBe(20);
    expect(shown.output).toMatchObject({
      family: 'opper',
      text: 'Hi',
      upstreamSpanId: '3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f',
    });
  });
});

describe('play', () => {
  it('writes the raw bytes to stdout, instantly or at a (sped-up) recorded pace', async () => {
    for (const args of [
      ['--timing', 'instant'],
      ['--speed', '100'],
    ]) {
      const result = await runCli(['play', '1a2b3c4d5e6f7081', ...args, '--db', db], {
        cwd: dir.path,
      });
      expect(result.code).toBe(0);
      expect(result.stdout.equals(Buffer.from(tapes[0]!.raw))).toBe(true);
    }
  });
});

describe('export → import', () => {
  for (const format of ['sse', 'ndjson', 'har'] as const) {
    it(`round-trips every tape through ${format} into a fresh database`, async () => {
      const out = join(dir.path, `out-${format}`);
      const exported = await runCli(
        ['export', '--all', '--format', format, '--out', out, '--db', db],
        {
          cwd: dir.path,
        },
      );
      expect(exported.code).toBe(0);
      const fresh = join(dir.path, `fresh-${format}.sqlite`);
      const files = readdirSync(out).map((name) => join(out, name));
      const imported = await runCli(['import', ...files, '--db', fresh], { cwd: dir.path });
      expect(imported.code).toBe(0);
      const show = async (id: string, database: string) =>
        JSON.parse(
          (
            await runCli(['show', id, '--json', '--db', database], { cwd: dir.path })
          ).stdout.toString(),
        );
      for (const tape of tapes) {
        const [before, after] = await Promise.all([
          show(tape.spanId, db),
          show(tape.spanId, fresh),
        ]);
        expect(after).toEqual(before);
      }
    });
  }

  it('writes HAR 1.2 with every required field', async () => {
    const out = join(dir.path, 'har-check');
    await runCli(['export', '1a2b3c4d5e6f7081', '--format', 'har', '--out', out, '--db', db], {
      cwd: dir.path,
    });
    const har = JSON.parse(readFileSync(join(out, '1a2b3c4d5e6f7081.har'), 'utf8'));
    expect(harSchema.safeParse(har).error?.issues ?? []).toEqual([]);
    expect(har.log.entries[0].response.content.text).toBe(Buffer.from(tapes[0]!.raw).toString());
  });
});

describe('bad input: one line, exit 1, nothing written', () => {
  const expectOneLineFailure = (result: {
    code: number | null;
    stderr: string;
    stdout: Buffer;
  }) => {
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^\[tapedeck\] /);
    expect(result.stdout.byteLength).toBe(0);
  };

  it('an unknown id lists the closest ids', async () => {
    const before = sha(db);
    const result = await runCli(['show', '1a2b3c4d5e6f7082', '--db', db], { cwd: dir.path });
    expectOneLineFailure(result);
    expect(result.stderr).toMatch(/no tape "1a2b3c4d5e6f7082" .*closest: 1a2b3c4d5e6f7081/);
    expect(sha(db)).toBe(before);
  });

  it('a missing database is not created', async () => {
    const missing = join(dir.path, 'missing.sqlite');
    const result = await runCli(['ls', '--db', missing], { cwd: dir.path });
    expectOneLineFailure(result);
    expect(result.stderr).toContain(`no tape database at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });

  it('a corrupt database', async () => {
    const corrupt = join(dir.path, 'corrupt.sqlite');
    writeFileSync(corrupt, Buffer.alloc(8192, 7));
    const before = sha(corrupt);
    const result = await runCli(['ls', '--db', corrupt], { cwd: dir.path });
    expectOneLineFailure(result);
    expect(result.stderr).toContain(corrupt);
    expect(sha(corrupt)).toBe(before);
  });

  it('a database from a newer tapedeck', async () => {
    const newer = join(dir.path, 'newer.sqlite');
    await runCli(['import', writeExport(tapes[0]!, 'newer.ndjson'), '--db', newer], {
      cwd: dir.path,
    });
    // PRAGMA user_version lives at byte 60 of the SQLite header, big-endian.
    const bytes = readFileSync(newer);
    bytes.writeUInt32BE(99, 60);
    writeFileSync(newer, bytes);
    const before = sha(newer);
    for (const args of [
      ['ls'],
      ['show', '1a2b3c4d5e6f7081'],
      ['import', writeExport(tapes[1]!, 'more.ndjson')],
    ]) {
      const result = await runCli([...args, '--db', newer], { cwd: dir.path });
      expectOneLineFailure(result);
      expect(result.stderr).toMatch(/schema version 99/);
      expect(sha(newer)).toBe(before);
    }
  });

  it('an unreadable import file', async () => {
    const fresh = join(dir.path, 'never.sqlite');
    const locked = writeExport(tapes[0]!, 'locked.ndjson');
    chmodSync(locked, 0o000);
    const unreadable = process.getuid?.() === 0 ? join(dir.path, 'absent.ndjson') : locked;
    const result = await runCli(['import', unreadable, '--db', fresh], { cwd: dir.path });
    expectOneLineFailure(result);
    expect(result.stderr).toMatch(/cannot read .*(absent|locked)\.ndjson .*nothing was imported/);
    expect(existsSync(fresh)).toBe(false);
  });

  it('a malformed import file, even after a good one', async () => {
    const good = writeExport(tapes[0]!, 'good.ndjson');
    const bad = join(dir.path, 'bad.ndjson');
    writeFileSync(bad, '{"kind":"tape","format":"tapedeck-ndjson","tape":{"spanId":"x"}}\n');
    const before = sha(db);
    const result = await runCli(['import', good, bad, '--db', db], { cwd: dir.path });
    expectOneLineFailure(result);
    expect(result.stderr).toMatch(
      /cannot import .*bad\.ndjson \(tape at line 1\): .*nothing was imported/,
    );
    expect(sha(db)).toBe(before);
  });

  it('usage mistakes exit 2', async () => {
    const result = await runCli(['ls', '--since', 'soon', '--db', db], { cwd: dir.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid duration "soon"/);
    const bare = await runCli([], { cwd: dir.path });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: tapedeck');
    const unknown = await runCli(['lss'], { cwd: dir.path });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'lss'.*Did you mean ls\?/);
  });

  it('--help shows an example for every command', async () => {
    const commands = [
      'proxy',
      'ls',
      'show',
      'play',
      'serve',
      'export',
      'import',
      'trace',
      'prune',
      'stats',
      'demo',
    ];
    const results = await Promise.all(
      commands.map((command) => runCli([command, '--help'], { cwd: dir.path })),
    );
    for (const result of results) {
      expect(result.code).toBe(0);
      expect(result.stdout.toString()).toMatch(/Examples?:\n {2}\$ tapedeck /);
    }
  });
});

describe('prune and stats', () => {
  it('counts, then prunes tapes older than a duration', async () => {
    const copy = join(dir.path, 'prune.sqlite');
    const files = tapes.map((tape, index) => writeExport(tape, `prune-${index}.ndjson`));
    await runCli(['import', ...files, '--db', copy], { cwd: dir.path });
    const stats = JSON.parse(
      (await runCli(['stats', '--json', '--db', copy], { cwd: dir.path })).stdout.toString(),
    );
    expect(stats).toMatchObject({ tapes: 2, byFamily: { opper: 2 } });
    const dry = await runCli(['prune', '--older-than', '1d', '--dry-run', '--db', copy], {
      cwd: dir.path,
    });
    expect(dry.stdout.toString()).toMatch(/would prune 1 tape older than 1d/);
    const pruned = await runCli(['prune', '--older-than', '1d', '--json', '--db', copy], {
      cwd: dir.path,
    });
    expect(JSON.parse(pruned.stdout.toString())).toMatchObject({ pruned: 1 });
    const left = JSON.parse(
      (await runCli(['ls', '--json', '--db', copy], { cwd: dir.path })).stdout.toString(),
    );
    expect(left.map((tape: { spanId: string }) => tape.spanId)).toEqual(['1a2b3c4d5e6f7081']);
  });
});

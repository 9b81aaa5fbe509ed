import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback } from '../src/loopback.js';
import { exportTape } from '../src/tape-files.js';
import { opperTape, runCli, tempDir } from './helpers.js';

const dir = tempDir();
const db = join(dir.path, 'tapes.sqlite');
const tape = opperTape({ spanId: '2b3c4d5e6f708192' });
const bodies: string[] = [];
let collector: Server;
let endpoint: string;

beforeAll(async () => {
  const file = join(dir.path, 'tape.ndjson');
  writeFileSync(file, exportTape(tape, 'ndjson')[0]!.contents);
  expect((await runCli(['import', file, '--db', db], { cwd: dir.path })).code).toBe(0);
  // A stand-in OTLP/HTTP collector on loopback: it keeps every posted body.
  collector = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      if (request.url === '/v1/traces') bodies.push(Buffer.concat(parts).toString('utf8'));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  endpoint = await listenOnLoopback(collector, 0);
});
afterAll(async () => {
  await new Promise((resolve) => collector.close(resolve));
  dir.remove();
});

describe('trace', () => {
  it('exports the tape as a span over OTLP and prints its Jaeger link', async () => {
    const result = await runCli(
      ['trace', tape.spanId, '--endpoint', endpoint, '--json', '--db', db],
      {
        cwd: dir.path,
      },
    );
    expect(result.stderr).toContain(`exported 1 span to ${endpoint}/v1/traces`);
    expect(result.code).toBe(0);
    const [traced] = JSON.parse(result.stdout.toString());
    expect(traced.tape).toBe(tape.spanId);
    expect(traced.jaegerUrl).toBe(
      `http://localhost:16686/trace/${traced.traceId}?uiFind=${traced.spanId}`,
    );
    const exported = bodies.find((body) => body.includes('tapedeck.tape.span_id'));
    expect(exported).toBeDefined();
    expect(exported).toContain(tape.spanId);
    expect(exported).toContain(traced.spanId);
  });

  it('fails in one line when no collector answers', async () => {
    const closed = createServer();
    const origin = await listenOnLoopback(closed, 0);
    await new Promise((resolve) => closed.close(resolve));
    const result = await runCli(['trace', tape.spanId, '--endpoint', origin, '--db', db], {
      cwd: dir.path,
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /no OTLP\/HTTP collector answers at .* start Jaeger with `docker run/,
    );
  });
});

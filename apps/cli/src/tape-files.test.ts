import type { Tape } from '@tapedeck/types';
import { describe, expect, it } from 'vitest';
import { exportTape, parseHar, parseNdjson, parseSse, toHar } from './tape-files.js';

const encoder = new TextEncoder();

function sampleTape(rawText = 'data: {"delta":"Hé"}\n\ndata: {"delta":"llo"}\n\n'): Tape {
  const raw = encoder.encode(rawText);
  const firstEnd = rawText.indexOf('\n\n') + 2;
  const firstEndBytes = encoder.encode(rawText.slice(0, firstEnd)).byteLength;
  return {
    schemaVersion: 1,
    spanId: '1a2b3c4d5e6f7081',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    upstreamSpanId: '3f1c9a52-7d4e-4b8a-9c1e-5a6b7c8d9e0f',
    family: 'opper',
    model: 'demo',
    request: {
      method: 'POST',
      url: 'http://127.0.0.1:9/v2/call/stream?b=2&a=1',
      headers: { 'content-type': 'application/json', authorization: '[REDACTED]' },
      body: '{"name":"demo"}',
    },
    requestHash: 'abc',
    response: { status: 200, statusText: 'OK', headers: { 'content-type': 'text/event-stream' } },
    startedAt: 1_763_700_000_000,
    durationMs: 42.5,
    outcome: 'complete',
    eventCount: 2,
    byteLength: raw.byteLength,
    firstEventMs: 10.25,
    raw,
    chunks: [
      { offsetMs: 10.25, byteLength: 5 },
      { offsetMs: 11, byteLength: firstEndBytes - 5 },
      { offsetMs: 40, byteLength: raw.byteLength - firstEndBytes },
    ],
    events: [
      {
        index: 0,
        offsetMs: 11,
        byteStart: 0,
        byteEnd: firstEndBytes,
        type: 'message',
        id: '',
        data: '{"delta":"Hé"}',
      },
      {
        index: 1,
        offsetMs: 40,
        byteStart: firstEndBytes,
        byteEnd: raw.byteLength,
        type: 'message',
        id: '',
        data: '{"delta":"llo"}',
      },
    ],
  };
}

const text = (contents: string | Uint8Array) =>
  typeof contents === 'string' ? contents : Buffer.from(contents).toString('utf8');

describe('export and import files', () => {
  it('round-trips a tape through ndjson without loss', () => {
    const tape = sampleTape();
    const [file] = exportTape(tape, 'ndjson');
    const [back] = parseNdjson('t.ndjson', text(file!.contents));
    expect(back).toEqual(tape);
  });

  it('round-trips a tape through .sse and its sidecar without loss', () => {
    const tape = sampleTape();
    const [sse, sidecar] = exportTape(tape, 'sse');
    expect(sse!.name).toBe('1a2b3c4d5e6f7081.sse');
    expect(Buffer.from(sse!.contents as Uint8Array).equals(Buffer.from(tape.raw))).toBe(true);
    const [back] = parseSse('t.sse', sse!.contents as Uint8Array, text(sidecar!.contents));
    expect(back).toEqual(tape);
  });

  it('round-trips through HAR, including bytes that are not UTF-8', () => {
    const tape = sampleTape();
    const [file] = exportTape(tape, 'har');
    expect(parseHar('t.har', text(file!.contents))).toEqual([tape]);

    const binary = { ...sampleTape(), raw: new Uint8Array([0xff, 0xfe, 0x0a, 0x0a]) };
    binary.byteLength = 4;
    binary.chunks = [{ offsetMs: 1, byteLength: 4 }];
    binary.events = [];
    const har = toHar([binary]);
    expect(har.log.entries[0]?.response.content.encoding).toBe('base64');
    expect(parseHar('b.har', JSON.stringify(har))).toEqual([binary]);
  });

  it('names the file and line of a malformed ndjson record', () => {
    const [file] = exportTape(sampleTape(), 'ndjson');
    const lines = text(file!.contents).split('\n');
    lines[1] = '{not json';
    expect(() => parseNdjson('bad.ndjson', lines.join('\n'))).toThrow(
      /cannot import bad\.ndjson \(line 2\): not valid JSON.*nothing was imported/,
    );
  });

  it('rejects a tape whose fields break the schema, naming the field', () => {
    const [file] = exportTape(sampleTape(), 'ndjson');
    const lines = text(file!.contents).split('\n');
    const header = JSON.parse(lines[0]!);
    header.tape.spanId = 'not-a-span';
    lines[0] = JSON.stringify(header);
    expect(() => parseNdjson('bad.ndjson', lines.join('\n'))).toThrow(/spanId: a span id is/);
  });

  it('rejects chunks that do not tile the bytes and events outside them', () => {
    const tape = sampleTape();
    const short = { ...tape, chunks: tape.chunks.slice(0, 2) };
    const [file] = exportTape(short, 'har');
    expect(() => parseHar('bad.har', text(file!.contents))).toThrow(/chunks cover/);
    const outside = sampleTape();
    outside.events[1]!.byteEnd = 10_000;
    const [har] = exportTape(outside, 'har');
    expect(() => parseHar('bad.har', text(har!.contents))).toThrow(/event 1 spans bytes/);
  });

  it('asks for the sidecar when an .sse file comes alone', () => {
    expect(() => parseSse('lone.sse', new Uint8Array(), undefined)).toThrow(
      /no sidecar lone\.sse\.json/,
    );
  });

  it('rejects a HAR that tapedeck did not write', () => {
    expect(() => parseHar('x.har', '{"log":{"entries":[{"response":{}}]}}')).toThrow(
      /only HAR files exported by tapedeck/,
    );
    expect(() => parseHar('x.har', '{"nope":1}')).toThrow(/not a HAR file/);
  });
});

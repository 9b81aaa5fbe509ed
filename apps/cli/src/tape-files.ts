import { basename } from 'node:path';
import {
  TAPE_SCHEMA_VERSION,
  type Tape,
  type TapeChunk,
  type TapeEvent,
  type TapeSummary,
  tapeSchema,
} from '@tapedeck/types';
import { failure } from './errors.js';

/** The export formats. `sse` writes the raw stream plus a `.sse.json` sidecar with its timing. */
export type ExportFormat = 'sse' | 'ndjson' | 'har';

/** One file to write. */
export interface ExportFile {
  name: string;
  contents: string | Uint8Array;
}

const NDJSON_FORMAT = 'tapedeck-ndjson';
const SIDECAR_FORMAT = 'tapedeck-sse-sidecar';
const CREATOR = { name: 'tapedeck', version: '0.1.0' };

/** A tape without its bytes, chunks and events. */
export function summaryOf(tape: Tape): TapeSummary {
  const { raw: _raw, chunks: _chunks, events: _events, ...summary } = tape;
  return summary;
}

/** The files one tape exports to. */
export function exportTape(tape: Tape, format: ExportFormat): ExportFile[] {
  const summary = summaryOf(tape);
  const raw = Buffer.from(tape.raw.buffer, tape.raw.byteOffset, tape.raw.byteLength);
  if (format === 'sse') {
    return [
      { name: `${tape.spanId}.sse`, contents: raw },
      {
        name: `${tape.spanId}.sse.json`,
        contents: `${JSON.stringify(
          { format: SIDECAR_FORMAT, tape: summary, chunks: tape.chunks, events: tape.events },
          null,
          2,
        )}\n`,
      },
    ];
  }
  if (format === 'ndjson') {
    const lines: string[] = [
      JSON.stringify({ kind: 'tape', format: NDJSON_FORMAT, tape: summary }),
    ];
    let start = 0;
    for (const chunk of tape.chunks) {
      const bytes = raw.subarray(start, start + chunk.byteLength);
      start += chunk.byteLength;
      lines.push(
        JSON.stringify({
          kind: 'chunk',
          offsetMs: chunk.offsetMs,
          byteLength: chunk.byteLength,
          base64: bytes.toString('base64'),
        }),
      );
    }
    for (const event of tape.events) lines.push(JSON.stringify({ kind: 'event', ...event }));
    return [{ name: `${tape.spanId}.ndjson`, contents: `${lines.join('\n')}\n` }];
  }
  return [{ name: `${tape.spanId}.har`, contents: `${JSON.stringify(toHar([tape]), null, 2)}\n` }];
}

function headerList(headers: Record<string, string>) {
  return Object.entries(headers).map(([name, value]) => ({ name, value }));
}

/** True when the bytes survive a round trip through a UTF-8 string. */
function isUtf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

/** A HAR 1.2 log with one entry per tape; tapedeck's own fields live under `_tapedeck`. */
export function toHar(tapes: Tape[]) {
  return {
    log: {
      version: '1.2',
      creator: CREATOR,
      pages: [],
      entries: tapes.map((tape) => {
        const raw = Buffer.from(tape.raw.buffer, tape.raw.byteOffset, tape.raw.byteLength);
        const text = isUtf8(raw) ? raw.toString('utf8') : raw.toString('base64');
        const url = new URL(tape.request.url);
        const mimeType = tape.response.headers['content-type'] ?? 'text/event-stream';
        const firstByteMs = tape.chunks[0]?.offsetMs ?? 0;
        const durationMs = tape.durationMs ?? tape.chunks.at(-1)?.offsetMs ?? 0;
        return {
          startedDateTime: new Date(tape.startedAt).toISOString(),
          time: durationMs,
          request: {
            method: tape.request.method,
            url: tape.request.url,
            httpVersion: 'HTTP/1.1',
            cookies: [],
            headers: headerList(tape.request.headers),
            queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
            ...(tape.request.body === null
              ? {}
              : {
                  postData: {
                    mimeType: tape.request.headers['content-type'] ?? 'application/json',
                    text: tape.request.body,
                  },
                }),
            headersSize: -1,
            bodySize: tape.request.body === null ? 0 : Buffer.byteLength(tape.request.body),
          },
          response: {
            status: tape.response.status,
            statusText: tape.response.statusText,
            httpVersion: 'HTTP/1.1',
            cookies: [],
            headers: headerList(tape.response.headers),
            content: {
              size: raw.byteLength,
              mimeType,
              text,
              ...(isUtf8(raw) ? {} : { encoding: 'base64' }),
            },
            redirectURL: '',
            headersSize: -1,
            bodySize: raw.byteLength,
          },
          cache: {},
          timings: {
            blocked: -1,
            dns: -1,
            connect: -1,
            send: 0,
            wait: firstByteMs,
            receive: Math.max(0, durationMs - firstByteMs),
            ssl: -1,
          },
          _tapedeck: { tape: summaryOf(tape), chunks: tape.chunks, events: tape.events },
        };
      }),
    },
  };
}

/** A malformed import file: names the file, where in it, and that nothing was imported. */
function malformed(file: string, where: string, problem: string) {
  return failure(
    'INVALID_TAPE',
    `cannot import ${file}${where ? ` (${where})` : ''}: ${problem}; nothing was imported`,
    { path: file },
  );
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function parseJson(file: string, text: string, where = ''): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw malformed(file, where, `not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Validates a tape read from a file: the Tape schema, then that chunks tile the bytes and every
 * event lies inside them.
 */
export function validateTape(file: string, candidate: unknown, where = ''): Tape {
  const result = tapeSchema.safeParse(candidate);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.join('.') || 'tape';
    throw malformed(file, where, `${path}: ${issue?.message ?? 'does not match the tape schema'}`);
  }
  const tape = result.data;
  if (tape.schemaVersion !== TAPE_SCHEMA_VERSION) {
    throw malformed(file, where, `schema version ${tape.schemaVersion} is not supported`);
  }
  const tiled = tape.chunks.reduce((total, chunk) => total + chunk.byteLength, 0);
  if (tiled !== tape.raw.byteLength) {
    throw malformed(
      file,
      where,
      `chunks cover ${tiled} bytes but the stream has ${tape.raw.byteLength}`,
    );
  }
  if (tape.byteLength !== tape.raw.byteLength) {
    throw malformed(
      file,
      where,
      `byteLength says ${tape.byteLength} but the stream has ${tape.raw.byteLength} bytes`,
    );
  }
  for (const event of tape.events) {
    if (event.byteStart > event.byteEnd || event.byteEnd > tape.raw.byteLength) {
      throw malformed(
        file,
        where,
        `event ${event.index} spans bytes ${event.byteStart}-${event.byteEnd} outside the ${tape.raw.byteLength}-byte stream`,
      );
    }
  }
  return tape;
}

/** Reads tapes from an ndjson export. */
export function parseNdjson(file: string, text: string): Tape[] {
  const tapes: Tape[] = [];
  let current:
    | {
        header: Record<string, unknown>;
        line: number;
        raw: Buffer[];
        chunks: TapeChunk[];
        events: TapeEvent[];
      }
    | undefined;
  const finish = () => {
    if (!current) return;
    tapes.push(
      validateTape(
        file,
        {
          ...current.header,
          raw: new Uint8Array(Buffer.concat(current.raw)),
          chunks: current.chunks,
          events: current.events,
        },
        `tape at line ${current.line}`,
      ),
    );
  };
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const where = `line ${index + 1}`;
    const record = asObject(parseJson(file, line, where));
    if (!record) throw malformed(file, where, 'each line must be a JSON object');
    if (record.kind === 'tape') {
      finish();
      const header = asObject(record.tape);
      if (record.format !== NDJSON_FORMAT || !header) {
        throw malformed(
          file,
          where,
          `expected {"kind":"tape","format":"${NDJSON_FORMAT}","tape":{…}}`,
        );
      }
      current = { header, line: index + 1, raw: [], chunks: [], events: [] };
    } else if (!current) {
      throw malformed(file, where, 'the first line must be the {"kind":"tape",…} header');
    } else if (record.kind === 'chunk') {
      if (typeof record.base64 !== 'string')
        throw malformed(file, where, 'chunk has no base64 bytes');
      const bytes = Buffer.from(record.base64, 'base64');
      if (bytes.byteLength !== record.byteLength) {
        throw malformed(
          file,
          where,
          `chunk says ${String(record.byteLength)} bytes but holds ${bytes.byteLength}`,
        );
      }
      current.raw.push(bytes);
      current.chunks.push({ offsetMs: record.offsetMs as number, byteLength: bytes.byteLength });
    } else if (record.kind === 'event') {
      const { kind: _kind, ...event } = record;
      current.events.push(event as unknown as TapeEvent);
    } else {
      throw malformed(file, where, `unknown record kind ${JSON.stringify(record.kind)}`);
    }
  }
  finish();
  if (tapes.length === 0) throw malformed(file, '', 'the file holds no tapes');
  return tapes;
}

/** Reads tapes from a HAR written by `tapedeck export --format har`. */
export function parseHar(file: string, text: string): Tape[] {
  const log = asObject(asObject(parseJson(file, text))?.log);
  const entries = log?.entries;
  if (!log || !Array.isArray(entries)) throw malformed(file, '', 'not a HAR file (no log.entries)');
  const tapes = entries.map((value, index) => {
    const where = `log.entries[${index}]`;
    const entry = asObject(value);
    const extra = asObject(entry?._tapedeck);
    const content = asObject(asObject(entry?.response)?.content);
    if (!extra || !content || typeof content.text !== 'string') {
      throw malformed(
        file,
        where,
        'no _tapedeck timing or response content: only HAR files exported by tapedeck can be imported',
      );
    }
    const raw = Buffer.from(content.text, content.encoding === 'base64' ? 'base64' : 'utf8');
    return validateTape(
      file,
      {
        ...asObject(extra.tape),
        raw: new Uint8Array(raw),
        chunks: extra.chunks,
        events: extra.events,
      },
      where,
    );
  });
  if (tapes.length === 0) throw malformed(file, '', 'the HAR has no entries');
  return tapes;
}

/** Reads a tape from an `.sse` file and its `.sse.json` sidecar. */
export function parseSse(file: string, raw: Uint8Array, sidecarText: string | undefined): Tape[] {
  if (sidecarText === undefined) {
    throw malformed(
      file,
      '',
      `no sidecar ${basename(file)}.json with its timing: export with \`tapedeck export --format sse\` (writes both) or use --format ndjson`,
    );
  }
  const sidecar = asObject(parseJson(`${file}.json`, sidecarText));
  if (!sidecar || sidecar.format !== SIDECAR_FORMAT) {
    throw malformed(
      `${file}.json`,
      '',
      `not a tapedeck sidecar (format must be "${SIDECAR_FORMAT}")`,
    );
  }
  return [
    validateTape(file, {
      ...asObject(sidecar.tape),
      raw: new Uint8Array(raw),
      chunks: sidecar.chunks,
      events: sidecar.events,
    }),
  ];
}

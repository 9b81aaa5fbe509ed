import {
  canonicalJson,
  DEFAULT_IGNORED_BODY_FIELDS,
  normalizeUrl,
  omitFields,
  type Tape,
  TapedeckError,
  type TapeStore,
  type TapeSummary,
} from '@tapedeck/types';

import type { MatchableRequest, MatchRequestsBy, ReplayMiss } from './types.js';

/** The request header that pins a request to one tape by spanId (or upstream span / response id). */
export const TAPE_HEADER = 'x-tapedeck-tape';

/**
 * Headers that never count when `matchRequestsBy.headers` is `true`: credentials, transport,
 * SDK telemetry and tracing all change between runs without changing the request.
 */
const VOLATILE_HEADERS = new Set([
  'authorization',
  'cookie',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'user-agent',
  'content-length',
  'connection',
  'host',
  'accept-encoding',
  'traceparent',
  'tracestate',
  'baggage',
  'idempotency-key',
  'x-request-id',
  TAPE_HEADER,
]);

function isVolatileHeader(name: string): boolean {
  return (
    VOLATILE_HEADERS.has(name) ||
    name.startsWith('x-stainless-') ||
    name.startsWith('x-msw-') ||
    name.startsWith('sec-')
  );
}

/** The compared value of each request part; `undefined` when the part is not compared. */
interface RequestParts {
  method?: unknown;
  url?: unknown;
  body?: unknown;
  headers?: unknown;
}

interface Settings {
  method: NonNullable<MatchRequestsBy['method']>;
  url: NonNullable<MatchRequestsBy['url']>;
  body: NonNullable<MatchRequestsBy['body']>;
  headers: NonNullable<MatchRequestsBy['headers']>;
  ignoreBodyFields: readonly string[];
}

function resolveSettings(matchRequestsBy: MatchRequestsBy | undefined): Settings {
  return {
    method: matchRequestsBy?.method ?? true,
    url: matchRequestsBy?.url ?? true,
    body: matchRequestsBy?.body ?? true,
    headers: matchRequestsBy?.headers ?? false,
    ignoreBodyFields: [
      ...DEFAULT_IGNORED_BODY_FIELDS,
      ...(matchRequestsBy?.ignoreBodyFields ?? []),
    ],
  };
}

function parseBody(body: string | null): unknown {
  if (body === null || body === '') return null;
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(body);
    } catch {
      return body;
    }
  }
  return body;
}

function lowerCaseHeaders(headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = value;
  return result;
}

function requestParts(request: MatchableRequest, settings: Settings): RequestParts {
  const parts: RequestParts = {};
  if (settings.method !== false) {
    const method = request.method.toUpperCase();
    parts.method = settings.method === true ? method : settings.method(method);
  }
  if (settings.url !== false) {
    parts.url =
      settings.url === true ? normalizeUrl(request.url) : settings.url(new URL(request.url));
  }
  if (settings.body !== false) {
    let body = parseBody(request.body);
    body = omitFields(body, settings.ignoreBodyFields);
    parts.body = settings.body === true ? body : settings.body(body);
  }
  if (settings.headers !== false) {
    const headers = lowerCaseHeaders(request.headers);
    if (settings.headers === true) {
      const kept: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) {
        if (!isVolatileHeader(name)) kept[name] = value;
      }
      parts.headers = kept;
    } else if (Array.isArray(settings.headers)) {
      const kept: Record<string, string> = {};
      for (const name of settings.headers) {
        const value = headers[name.toLowerCase()];
        if (value !== undefined) kept[name.toLowerCase()] = value;
      }
      parts.headers = kept;
    } else {
      parts.headers = settings.headers(headers);
    }
  }
  return parts;
}

function partsKey(parts: RequestParts): string {
  return canonicalJson([parts.method, parts.url, parts.body, parts.headers]);
}

const MAX_VALUE_CHARS = 60;

function show(value: unknown): string {
  if (value === undefined) return 'absent';
  const text = typeof value === 'string' ? JSON.stringify(value) : canonicalJson(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/** Paths where two JSON values differ, e.g. `body.input[0].content`, with both sides. */
function diffValues(path: string, request: unknown, tape: unknown, out: string[], max: number) {
  if (out.length >= max) return;
  const bothObjects =
    request !== null &&
    tape !== null &&
    typeof request === 'object' &&
    typeof tape === 'object' &&
    Array.isArray(request) === Array.isArray(tape);
  if (bothObjects) {
    if (Array.isArray(request) && Array.isArray(tape)) {
      const length = Math.max(request.length, tape.length);
      for (let index = 0; index < length; index += 1) {
        diffValues(`${path}[${index}]`, request[index], tape[index], out, max);
      }
      return;
    }
    const requestRecord = request as Record<string, unknown>;
    const tapeRecord = tape as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(requestRecord), ...Object.keys(tapeRecord)])].sort();
    for (const key of keys) {
      diffValues(`${path}.${key}`, requestRecord[key], tapeRecord[key], out, max);
    }
    return;
  }
  if (
    canonicalJson(request ?? null) === canonicalJson(tape ?? null) &&
    (request === undefined) === (tape === undefined)
  ) {
    return;
  }
  out.push(`${path}: ${show(request)} (request) vs ${show(tape)} (tape)`);
}

const MAX_DIFF_LINES = 6;

function differences(request: RequestParts, tape: RequestParts): string[] {
  const out: string[] = [];
  const names = ['method', 'url', 'headers', 'body'] as const;
  for (const name of names) {
    if (!(name in request)) continue;
    if (canonicalJson(request[name] ?? null) === canonicalJson(tape[name] ?? null)) continue;
    diffValues(name, request[name], tape[name], out, MAX_DIFF_LINES + 1);
  }
  return out;
}

/** Lower is closer: a different method or URL weighs more than a few body fields. */
function distance(request: RequestParts, tape: RequestParts, lines: string[]): number {
  let score = lines.length;
  if ('method' in request && canonicalJson(request.method) !== canonicalJson(tape.method)) {
    score += 1000;
  }
  if ('url' in request && canonicalJson(request.url) !== canonicalJson(tape.url)) score += 100;
  return score;
}

function describeRequest(request: MatchableRequest): string {
  return `${request.method.toUpperCase()} ${request.url}`;
}

function describeTape(tape: TapeSummary): string {
  const when = new Date(tape.startedAt).toISOString();
  return `${tape.spanId} (${tape.family}, ${tape.request.method} ${tape.request.url}, recorded ${when})`;
}

function fixHint(lines: string[]): string {
  const bodyFields = lines
    .filter((line) => line.startsWith('body.'))
    .map((line) => line.slice('body.'.length, line.indexOf(':')))
    .map((path) => path.replace(/\[(\d+)\]/g, '.$1'));
  const loosen =
    bodyFields.length > 0
      ? `matchRequestsBy: {ignoreBodyFields: [${[...new Set(bodyFields)]
          .slice(0, 3)
          .map((field) => `'${field}'`)
          .join(', ')}]}`
      : 'matchRequestsBy (method, url, body, headers)';
  return (
    '  If the request changed on purpose, re-record the tape (TAPEDECK_MODE=record); if the ' +
    `difference does not matter, loosen matching: ${loosen}.`
  );
}

/** Result of {@link TapeMatcher.match}. */
export type TapeMatch =
  | {
      matched: true;
      tape: Tape;
      /** Identifies the request's group of same-key tapes (for fault sequences). */
      key: string;
      /**
       * Puts this tape back at the head of its `sequential` group, so the next same-key request
       * gets it again (e.g. the request was answered with an injected error status instead).
       */
      rewind(): void;
    }
  | { matched: false; miss: ReplayMiss };

/** Looks requests up in a store's tapes; see {@link createTapeMatcher}. */
export interface TapeMatcher {
  /** The tape for this request, or an explanation of why none matches. */
  match(request: MatchableRequest): Promise<TapeMatch>;
  /** Forgets the in-memory index, e.g. after tapes were recorded or deleted. */
  refresh(): void;
}

interface Group {
  tapes: TapeSummary[];
  cursor: number;
}

interface Index {
  groups: Map<string, Group>;
  summaries: TapeSummary[];
}

/**
 * Matches requests to tapes the way `createReplayHandlers` does, for servers that are not MSW
 * (`tapedeck serve`): same keys, same order, same `[tapedeck]` miss messages.
 *
 * The store's summaries are indexed in memory on first use (one `list` pass); a tape's bytes are
 * loaded with `get` only once it matched.
 *
 * @example
 * ```ts
 * const matcher = createTapeMatcher({ store });
 * const result = await matcher.match({ method: 'POST', url, headers: {}, body });
 * if (!result.matched) console.error(result.miss.message);
 * ```
 */
export function createTapeMatcher({
  store,
  matchRequestsBy,
  order = 'sequential',
}: {
  store: TapeStore;
  matchRequestsBy?: MatchRequestsBy;
  order?: 'sequential' | 'latest';
}): TapeMatcher {
  if (order !== 'sequential' && order !== 'latest') {
    throw new TapedeckError({
      code: 'INVALID_ARGUMENT',
      message: `order must be 'sequential' or 'latest', got ${JSON.stringify(order)}`,
    });
  }
  const settings = resolveSettings(matchRequestsBy);
  let indexPromise: Promise<Index> | undefined;

  async function buildIndex(): Promise<Index> {
    const summaries: TapeSummary[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 1000, order: 'asc', cursor });
      summaries.push(...page.tapes);
      cursor = page.nextCursor;
    } while (cursor);
    const playable = summaries
      .filter((summary) => summary.outcome !== 'recording')
      .sort((a, b) => a.startedAt - b.startedAt);
    const groups = new Map<string, Group>();
    for (const summary of playable) {
      const key = partsKey(requestParts(summary.request, settings));
      const group = groups.get(key);
      if (group) group.tapes.push(summary);
      else groups.set(key, { tapes: [summary], cursor: 0 });
    }
    return { groups, summaries: playable };
  }

  function explainMiss(request: MatchableRequest, index: Index, reason?: string): ReplayMiss {
    const parts = requestParts(request, settings);
    const ranked = index.summaries
      .map((tape) => {
        const tapeParts = requestParts(tape.request, settings);
        const lines = differences(parts, tapeParts);
        return { tape, differences: lines, score: distance(parts, tapeParts, lines) };
      })
      .sort((a, b) => a.score - b.score || b.tape.startedAt - a.tape.startedAt);
    const best = ranked[0]?.score;
    const closest = ranked
      .filter((candidate) => candidate.score === best)
      .slice(0, 3)
      .map(({ tape, differences: lines }) => ({ tape, differences: lines }));
    const lines = [reason ?? `[tapedeck] No tape matches ${describeRequest(request)}.`];
    if (closest.length === 0) {
      lines.push(
        '  The store has no tapes. Record some first: run the tests with TAPEDECK_MODE=record (or auto).',
      );
    } else {
      for (const candidate of closest) {
        lines.push(`  Closest tape ${describeTape(candidate.tape)} differs in:`);
        const shown = candidate.differences.slice(0, MAX_DIFF_LINES);
        for (const line of shown) lines.push(`    ${line}`);
        if (candidate.differences.length > MAX_DIFF_LINES) lines.push('    …and more');
      }
      lines.push(fixHint(closest[0]!.differences));
    }
    return { request, message: lines.join('\n'), closest };
  }

  return {
    async match(request) {
      indexPromise ??= buildIndex();
      let index: Index;
      try {
        index = await indexPromise;
      } catch (error) {
        indexPromise = undefined;
        throw new TapedeckError({
          code: 'STORE_FAILURE',
          message: `could not list the tapes to match ${describeRequest(request)}: ${String(error)}`,
          cause: error,
        });
      }
      const pinned = lowerCaseHeaders(request.headers)[TAPE_HEADER];
      if (pinned) {
        const tape = await store.get(pinned);
        if (tape) return { matched: true, tape, key: `pinned:${tape.spanId}`, rewind() {} };
        return {
          matched: false,
          miss: explainMiss(
            request,
            index,
            `[tapedeck] ${describeRequest(request)} pins tape ${JSON.stringify(pinned)} (header ${TAPE_HEADER}), but the store has no tape with that spanId, upstream span id or response id.`,
          ),
        };
      }
      const key = partsKey(requestParts(request, settings));
      const group = index.groups.get(key);
      if (group) {
        const position = order === 'latest' ? group.tapes.length - 1 : group.cursor;
        // Taken before the await, so concurrent same-key requests get successive tapes.
        if (order === 'sequential') group.cursor = Math.min(position + 1, group.tapes.length - 1);
        const summary = group.tapes[position]!;
        const tape = await store.get(summary.spanId);
        if (tape) {
          return {
            matched: true,
            tape,
            key,
            rewind() {
              if (order === 'sequential') group.cursor = position;
            },
          };
        }
        // Deleted since indexing: rebuild and say so through the normal miss path.
        indexPromise = undefined;
      }
      return { matched: false, miss: explainMiss(request, index) };
    },
    refresh() {
      indexPromise = undefined;
    },
  };
}

/** Reads what matching needs from a fetch `Request` (the body from a clone). */
export async function toMatchableRequest(request: Request): Promise<MatchableRequest> {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const body = request.body === null ? null : await request.clone().text();
  return { method: request.method, url: request.url, headers, body: body === '' ? null : body };
}

import type { z } from 'zod';
import { boundedMemo } from './bounded-memo.js';
import {
  type ChatCompletionsEvent,
  chatCompletionChunkSchema,
  chatCompletionsEventSchema,
  chatErrorEventSchema,
} from './chat-completions.js';
import { type OpenResponsesKnownEvent, openResponsesKnownEventSchema } from './openresponses.js';
import { type OpperChunk, opperChunkSchema } from './opper.js';
import type { StreamFamily } from './tape.js';

/** The text of one SSE event that {@link parseEventData} reads: its data and optional type. */
export interface EventDataInput {
  /** The joined `data` lines. */
  data: string;
  /** The SSE event type (`event:` line), if any. */
  type?: string;
}

/** Why an event's data could not be read as its family's events. */
export type EventDataProblem = 'not-json' | 'schema-mismatch' | 'sentinel';

/**
 * What {@link parseEventData} found.
 * - `{ok: true, known: true, value}`: a known event; `value` is the parsed object, typed.
 * - `{ok: true, known: false, value}`: valid JSON of a shape this version does not know (a new
 *   event type, or extra fields); `value` is the parsed JSON, untouched.
 * - `{ok: false, problem}`: `sentinel` for `[DONE]`; `not-json` when the data is not JSON;
 *   `schema-mismatch` when a known type is missing or mistypes a field (`path` says where;
 *   `value` still holds the parsed JSON, untouched).
 */
export type ParsedEventData<Value = unknown> =
  | { ok: true; known: true; value: Value }
  | { ok: true; known: false; value: unknown }
  | {
      ok: false;
      problem: EventDataProblem;
      message: string;
      path?: (string | number)[];
      /** The parsed JSON for `schema-mismatch`; absent for the other problems. */
      value?: unknown;
    };

/** The data of a known event, per family. */
export interface KnownEventData {
  opper: OpperChunk;
  openresponses: OpenResponsesKnownEvent;
  'chat-completions': ChatCompletionsEvent;
  sse: unknown;
}

/** The data that ends OpenResponses and chat-completions streams. */
export const DONE_SENTINEL = '[DONE]';

/**
 * Parses one SSE event's data as its family's event and says whether it is known.
 *
 * The returned `value` is always the object `JSON.parse` produced — never a copy from the
 * schema — so nothing is stripped or reordered, and `JSON.stringify(value)` re-serialises
 * the event faithfully. For family `sse` any data is accepted: JSON is parsed, other text is
 * returned as the string, and `known` is false.
 *
 * @example
 * ```ts
 * const result = parseEventData('openresponses', { data: '{"type":"response.output_text.delta",…}' });
 * if (result.ok && result.known) console.log(result.value.type);
 * ```
 */
export function parseEventData<Family extends StreamFamily>(
  family: Family,
  event: EventDataInput,
): ParsedEventData<KnownEventData[Family]>;
export function parseEventData(family: StreamFamily, event: EventDataInput): ParsedEventData {
  const { data } = event;
  if (data.trim() === DONE_SENTINEL) {
    return { ok: false, problem: 'sentinel', message: 'the stream-end sentinel [DONE]' };
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (error) {
    if (family === 'sse') return { ok: true, known: false, value: data };
    return {
      ok: false,
      problem: 'not-json',
      message: `${family} event data is not JSON (${(error as Error).message}): ${preview(data)}`,
    };
  }
  switch (family) {
    case 'opper':
      return classify(family, value, opperChunkSchema, isPlainObject(value));
    case 'openresponses': {
      const type = isPlainObject(value) ? value.type : undefined;
      const knownType = typeof type === 'string' && KNOWN_OPENRESPONSES_TYPES.has(type);
      if (typeof type === 'string' && !knownType) return { ok: true, known: false, value };
      if (typeof type !== 'string') {
        return {
          ok: false,
          problem: 'schema-mismatch',
          message: isPlainObject(value)
            ? 'openresponses event has no string "type"'
            : 'openresponses event is not an object',
          path: isPlainObject(value) ? ['type'] : [],
          value,
        };
      }
      return classify(family, value, openResponsesKnownEventSchema, knownType);
    }
    case 'chat-completions': {
      // A bare `{error}` is checked on its own so its issues are not mixed with a chunk's.
      const schema =
        isPlainObject(value) && !('choices' in value) && 'error' in value
          ? chatErrorEventSchema
          : isPlainObject(value) && 'choices' in value
            ? chatCompletionChunkSchema
            : chatCompletionsEventSchema;
      return classify(family, value, schema, isPlainObject(value));
    }
    default:
      return { ok: true, known: false, value };
  }
}

const KNOWN_OPENRESPONSES_TYPES: ReadonlySet<string> = new Set(
  openResponsesKnownEventSchema.options.map((option) => option.shape.type.value),
);

function classify(
  family: StreamFamily,
  value: unknown,
  schema: z.ZodType,
  isObjectOfKnownKind: boolean,
): ParsedEventData {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, known: true, value };
  const issues = result.error.issues;
  // Only unknown keys (a newer server adding fields) → an unknown event, kept as is.
  const onlyExtraKeys =
    isObjectOfKnownKind &&
    issues.every(
      (issue) =>
        issue.code === 'unrecognized_keys' ||
        // A new string value of a top-level enum (e.g. an Opper chunk_type) is forward drift too.
        (issue.code === 'invalid_value' &&
          issue.path.length === 1 &&
          typeof (value as Record<PropertyKey, unknown>)[issue.path[0] as PropertyKey] ===
            'string'),
    );
  if (onlyExtraKeys) return { ok: true, known: false, value };
  const issue = issues.find((candidate) => candidate.code !== 'unrecognized_keys') ?? issues[0];
  const path = (issue?.path ?? []).map((segment) =>
    typeof segment === 'symbol' ? String(segment) : segment,
  );
  const where = path.length > 0 ? ` at ${path.join('.')}` : '';
  return {
    ok: false,
    problem: 'schema-mismatch',
    message: `${family} event does not match its schema${where}: ${issue?.message ?? 'invalid'}`,
    path,
    value,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function preview(text: string): string {
  return text.length > 80 ? `${JSON.stringify(text.slice(0, 80))}…` : JSON.stringify(text);
}

/** The request that opened a stream, as much as {@link detectFamily} needs. */
export interface DetectFamilyRequest {
  url: string;
  method?: string;
  /** The request body as text (JSON), bytes (UTF-8 JSON) or already parsed. */
  body?: string | Uint8Array | null | Record<string, unknown>;
}

/**
 * Guesses a stream's family. The events, when given, decide first (they are what the server
 * actually sent): a `type` like `response.*` or `error` with `sequence_number` is
 * `openresponses`; `object: "chat.completion.chunk"` (or `choices`) is `chat-completions`;
 * an object with only Opper chunk fields is `opper`. Otherwise the URL path decides
 * (`…/call/stream` → opper, `…/responses` → openresponses, `…/chat/completions` →
 * chat-completions), then the body (`input` → openresponses, `messages` → chat-completions).
 * Anything else is `sse`.
 *
 * @example
 * ```ts
 * detectFamily({ url: 'https://api.opper.ai/v2/call/stream' }); // 'opper'
 * ```
 */
export function detectFamily(
  request: DetectFamilyRequest,
  firstEvents: ReadonlyArray<EventDataInput> = [],
): StreamFamily {
  for (const event of firstEvents) {
    const family = familyOfEvent(event);
    if (family) return family;
  }
  const path = pathOf(request.url);
  if (/\/call\/stream(?:\/[^/]*)?$/.test(path)) return 'opper';
  if (/\/chat\/completions$/.test(path)) return 'chat-completions';
  if (/\/responses$/.test(path)) return 'openresponses';
  const body = bodyOf(request.body);
  if (body) {
    if ('messages' in body) return 'chat-completions';
    if ('input' in body && 'model' in body) return 'openresponses';
  }
  return 'sse';
}

const textDecoder = new TextDecoder();
const OPPER_KEYS = new Set(Object.keys(opperChunkSchema.shape));

function familyOfEvent({ data, type }: EventDataInput): StreamFamily | undefined {
  if (type?.startsWith('response.')) return 'openresponses';
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!isPlainObject(value)) return undefined;
  if (typeof value.type === 'string') {
    if (value.type.startsWith('response.')) return 'openresponses';
    if (value.type === 'error' && 'sequence_number' in value) return 'openresponses';
  }
  if (value.object === 'chat.completion.chunk' || Array.isArray(value.choices)) {
    return 'chat-completions';
  }
  const keys = Object.keys(value);
  if (keys.length > 0 && keys.every((key) => OPPER_KEYS.has(key))) return 'opper';
  return undefined;
}

// The same few endpoints come again and again; parsing each URL again cost ~8 µs a stream.
const pathOf = boundedMemo(256, (url: string): string => {
  try {
    return new URL(url, 'http://relative.invalid').pathname.replace(/\/+$/, '');
  } catch {
    return url.split(/[?#]/)[0] ?? '';
  }
});

function bodyOf(body: DetectFamilyRequest['body']): Record<string, unknown> | undefined {
  if (body === null || body === undefined) return undefined;
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return body;
  try {
    const parsed: unknown = JSON.parse(typeof body === 'string' ? body : textDecoder.decode(body));
    return isPlainObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Keys a tape learns from its events. */
export interface StreamInfo {
  /** Opper's `span_id`. */
  upstreamSpanId?: string;
  /** OpenResponses `response.id`, chat-completions `id`. */
  responseId?: string;
  /** The model the response names. */
  model?: string;
}

/**
 * Reads the keys a tape is looked up by from one parsed event's data (known or not):
 * Opper's `span_id`; OpenResponses `response.id` / `response.model` (lifecycle events);
 * chat-completions `id` / `model`. Returns `{}` when the event carries none.
 *
 * @example
 * ```ts
 * extractStreamInfo('opper', { span_id: '3f1c…' }); // { upstreamSpanId: '3f1c…' }
 * ```
 */
export function extractStreamInfo(family: StreamFamily, value: unknown): StreamInfo {
  if (!isPlainObject(value)) return {};
  const info: StreamInfo = {};
  switch (family) {
    case 'opper':
      if (typeof value.span_id === 'string' && value.span_id !== '') {
        info.upstreamSpanId = value.span_id;
      }
      break;
    case 'openresponses': {
      const response = value.response;
      if (isPlainObject(response)) {
        if (typeof response.id === 'string' && response.id !== '') info.responseId = response.id;
        if (typeof response.model === 'string' && response.model !== '') {
          info.model = response.model;
        }
      }
      break;
    }
    case 'chat-completions':
      if (typeof value.id === 'string' && value.id !== '') info.responseId = value.id;
      if (typeof value.model === 'string' && value.model !== '') info.model = value.model;
      break;
    default:
      break;
  }
  return info;
}

/**
 * The member names an event's data must spell out to carry what {@link extractStreamInfo} reads
 * for its family: kept beside it, so the two change together.
 */
const STREAM_INFO_MEMBERS: Record<StreamFamily, readonly string[]> = {
  opper: ['"span_id"'],
  openresponses: ['"response"'],
  'chat-completions': ['"id"', '"model"'],
  sse: [],
};

/**
 * False when an event's `data` cannot name any key {@link extractStreamInfo} reads for `family`
 * (none of its member names, and no `\u` escape that could spell one): it need not be parsed.
 */
export function mayCarryStreamInfo(family: StreamFamily, data: string): boolean {
  const members = STREAM_INFO_MEMBERS[family];
  if (members.length === 0) return false;
  for (const member of members) if (data.includes(member)) return true;
  return data.includes('\\u');
}

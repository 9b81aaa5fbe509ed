import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { encodeEvent } from '@tapedeck/sse';
import { listenOnLoopback } from './loopback.js';

/** One piece of a scripted stream: wait `delayMs`, then write `bytes`. */
export interface ScriptedChunk {
  delayMs: number;
  bytes: Uint8Array;
}

/** What the embedded upstream streams back for one request. */
export interface ScriptedStream {
  status: number;
  headers: Record<string, string>;
  chunks: ScriptedChunk[];
}

/** A running embedded upstream. */
export interface DemoUpstream {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** How many streams it has served. */
  served(): number;
  close(): Promise<void>;
}

/** Pacing of a scripted stream, in milliseconds. */
export interface DemoPacing {
  /** Time before the first byte, like a model thinking. */
  firstByteMs: number;
  /** Time between deltas. */
  deltaMs: number;
}

const DEFAULT_PACING: DemoPacing = { firstByteMs: 40, deltaMs: 6 };

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-demo-upstream': 'tapedeck',
};

/**
 * Starts a loopback server that streams realistic Opper (`/call/stream`), OpenResponses
 * (`/responses`) and chat-completions (`/chat/completions`) SSE. What it streams depends on the
 * request: an Opper `output_schema` gets JSON deltas, OpenResponses `tools` get a function call,
 * `reasoning` gets a reasoning summary, and a model whose name contains `error` gets an error.
 */
export async function startDemoUpstream({
  pacing = DEFAULT_PACING,
}: {
  pacing?: DemoPacing;
} = {}): Promise<DemoUpstream> {
  let served = 0;
  const server = createServer((request, response) => {
    readBody(request)
      .then((body) => {
        const stream = scriptFor({ path: request.url ?? '/', body, pacing });
        served += 1;
        return writeScript(response, stream);
      })
      .catch((error: unknown) => {
        if (!response.headersSent) {
          response.writeHead(500, { 'content-type': 'application/json' });
        }
        response.end(JSON.stringify({ error: String(error) }));
      });
  });
  const origin = await listenOnLoopback(server, 0);
  return {
    origin,
    served: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function writeScript(response: ServerResponse, stream: ScriptedStream): Promise<void> {
  response.writeHead(stream.status, stream.headers);
  response.flushHeaders();
  for (const chunk of stream.chunks) {
    if (chunk.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, chunk.delayMs));
    if (response.destroyed) return;
    response.write(chunk.bytes);
  }
  response.end();
}

/** Chooses and builds the stream for a request path and JSON body. */
export function scriptFor({
  path,
  body,
  pacing = DEFAULT_PACING,
}: {
  path: string;
  body: Record<string, unknown>;
  pacing?: DemoPacing;
}): ScriptedStream {
  const pathname = path.split('?')[0] ?? path;
  const model = typeof body.model === 'string' ? body.model : undefined;
  const wantsError = model?.includes('error') ?? false;
  if (pathname.endsWith('/call/stream')) {
    if (wantsError) return opperError({ pacing });
    if (body.output_schema) return opperJson({ pacing });
    return opperText({ pacing });
  }
  if (pathname.endsWith('/responses')) {
    const options = { pacing, model: model ?? 'openai/gpt-4o-mini' };
    if (wantsError) return responsesError(options);
    if (Array.isArray(body.tools) && body.tools.length > 0) return responsesFunctionCall(options);
    if (body.reasoning) return responsesReasoning(options);
    return responsesText(options);
  }
  if (pathname.endsWith('/chat/completions')) {
    return chatText({ pacing, model: model ?? 'openai/gpt-4o-mini' });
  }
  return {
    status: 404,
    headers: { 'content-type': 'application/json' },
    chunks: [
      {
        delayMs: 0,
        bytes: new TextEncoder().encode(
          JSON.stringify({ error: `the demo upstream has no route ${pathname}` }),
        ),
      },
    ],
  };
}

/** Splits text into word-sized deltas, the way models stream them. */
function words(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [text];
}

function paced(pacing: DemoPacing, events: Uint8Array[]): ScriptedChunk[] {
  return events.map((bytes, index) => ({
    delayMs: index === 0 ? pacing.firstByteMs : pacing.deltaMs,
    bytes,
  }));
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

// --- Opper ---------------------------------------------------------------------------------

const OPPER_TEXT = 'The capital of France is Paris, known for the Eiffel Tower and the Louvre.';

function opperText({ pacing }: { pacing: DemoPacing }): ScriptedStream {
  const events = [
    encodeEvent({ data: json({ span_id: randomUUID() }) }),
    ...words(OPPER_TEXT).map((delta) => encodeEvent({ data: json({ delta, chunk_type: 'text' }) })),
  ];
  return { status: 200, headers: SSE_HEADERS, chunks: paced(pacing, events) };
}

function opperJson({ pacing }: { pacing: DemoPacing }): ScriptedStream {
  const deltas: Array<[string, string | number | boolean]> = [
    ['people[0].name', 'Ada'],
    ['people[0].name', ' Lovelace'],
    ['people[0].born', 1815],
    ['people[0].mathematician', true],
    ['people[1].name', 'Alan'],
    ['people[1].name', ' Turing'],
    ['people[1].born', 1912],
    ['people[1].mathematician', true],
  ];
  const events = [
    encodeEvent({ data: json({ span_id: randomUUID() }) }),
    ...deltas.map(([json_path, delta]) =>
      encodeEvent({ data: json({ delta, json_path, chunk_type: 'json' }) }),
    ),
  ];
  return { status: 200, headers: SSE_HEADERS, chunks: paced(pacing, events) };
}

function opperError({ pacing }: { pacing: DemoPacing }): ScriptedStream {
  const events = [
    encodeEvent({ data: json({ span_id: randomUUID() }) }),
    encodeEvent({ data: json({ delta: 'Partial', chunk_type: 'text' }) }),
    encodeEvent({
      data: json({
        chunk_type: 'error',
        error_type: 'ModelError',
        error_message: 'upstream model timed out',
      }),
    }),
  ];
  return { status: 200, headers: SSE_HEADERS, chunks: paced(pacing, events) };
}

// --- OpenResponses -------------------------------------------------------------------------

function responseObject({
  id,
  model,
  status,
  output = [],
  usage,
}: {
  id: string;
  model: string;
  status: string;
  output?: unknown[];
  usage?: unknown;
}) {
  const createdAt = Math.floor(Date.now() / 1000);
  return {
    id,
    object: 'response',
    created_at: createdAt,
    completed_at: status === 'completed' ? createdAt + 1 : null,
    status,
    model,
    output,
    error: null,
    incomplete_details: null,
    instructions: null,
    metadata: {},
    frequency_penalty: null,
    presence_penalty: null,
    temperature: null,
    top_p: null,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    ...(usage === undefined ? {} : { usage }),
  };
}

function usage(input: number, output: number, reasoning = 0) {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: input + output,
  };
}

/**
 * Builds one response's typed OpenResponses events with increasing sequence numbers; the
 * response object events (`response.created`, `response.completed`, …) carry its id and model.
 */
function responsesWriter(model: string) {
  const id = shortId('resp');
  let sequence = 0;
  const events: Uint8Array[] = [];
  const add = (type: string, fields: Record<string, unknown>) => {
    events.push(
      encodeEvent({ event: type, data: json({ type, sequence_number: sequence++, ...fields }) }),
    );
  };
  return {
    events,
    add,
    addResponse(type: string, fields: Omit<Parameters<typeof responseObject>[0], 'id' | 'model'>) {
      add(type, { response: responseObject({ id, model, ...fields }) });
    },
    done() {
      events.push(encodeEvent({ data: '[DONE]' }));
    },
  };
}

function shortId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}

function addMessage(
  writer: ReturnType<typeof responsesWriter>,
  { outputIndex, text }: { outputIndex: number; text: string },
) {
  const itemId = shortId('msg');
  const position = { item_id: itemId, output_index: outputIndex, content_index: 0 };
  writer.add('response.output_item.added', {
    output_index: outputIndex,
    item: { type: 'message', id: itemId, role: 'assistant', status: 'in_progress', content: [] },
  });
  writer.add('response.content_part.added', {
    ...position,
    part: { type: 'output_text', text: '', annotations: [] },
  });
  for (const delta of words(text)) {
    writer.add('response.output_text.delta', { ...position, delta, logprobs: [] });
  }
  writer.add('response.output_text.done', { ...position, text, logprobs: [] });
  const part = { type: 'output_text', text, annotations: [] };
  writer.add('response.content_part.done', { ...position, part });
  const item = {
    type: 'message',
    id: itemId,
    role: 'assistant',
    status: 'completed',
    content: [part],
  };
  writer.add('response.output_item.done', { output_index: outputIndex, item });
  return item;
}

function responsesText({ pacing, model }: { pacing: DemoPacing; model: string }): ScriptedStream {
  const writer = responsesWriter(model);
  writer.addResponse('response.created', { status: 'in_progress' });
  writer.addResponse('response.in_progress', { status: 'in_progress' });
  const text = 'Tapes let your tests replay a real model stream byte for byte, with its timing.';
  const item = addMessage(writer, { outputIndex: 0, text });
  writer.addResponse('response.completed', {
    status: 'completed',
    output: [item],
    usage: usage(14, 18),
  });
  writer.done();
  const comment = new TextEncoder().encode(': OPENROUTER PROCESSING\n\n');
  return { status: 200, headers: SSE_HEADERS, chunks: paced(pacing, [comment, ...writer.events]) };
}

function responsesFunctionCall({
  pacing,
  model,
}: {
  pacing: DemoPacing;
  model: string;
}): ScriptedStream {
  const itemId = shortId('fc');
  const callId = shortId('call');
  const argumentsText = '{"city":"Paris","units":"celsius"}';
  const writer = responsesWriter(model);
  writer.addResponse('response.created', { status: 'in_progress' });
  writer.add('response.output_item.added', {
    output_index: 0,
    item: {
      type: 'function_call',
      id: itemId,
      call_id: callId,
      name: 'get_weather',
      arguments: '',
      status: 'in_progress',
    },
  });
  for (const delta of ['{"city":', '"Paris",', '"units":', '"celsius"}']) {
    writer.add('response.function_call_arguments.delta', {
      item_id: itemId,
      output_index: 0,
      delta,
    });
  }
  writer.add('response.function_call_arguments.done', {
    item_id: itemId,
    output_index: 0,
    name: 'get_weather',
    arguments: argumentsText,
  });
  const item = {
    type: 'function_call',
    id: itemId,
    call_id: callId,
    name: 'get_weather',
    arguments: argumentsText,
    status: 'completed',
  };
  writer.add('response.output_item.done', { output_index: 0, item });
  writer.addResponse('response.completed', {
    status: 'completed',
    output: [item],
    usage: usage(40, 18),
  });
  writer.done();
  return { status: 200, headers: SSE_HEADERS, chunks: paced(pacing, writer.events) };
}

function responsesReasoning({
  pacing,
  model,
}: {
  pacing: DemoPacing;
  model: string;
}): ScriptedStream {
  const reasoningId = shortId('rs');
  const summary = 'Compare the integer parts, then the tenths: 9.9 has 9 tenths, 9.11 has 1.';
  const writer = responsesWriter(model);
  writer.addResponse('response.created', { status: 'in_progress' });
  writer.add('response.output_item.added', {
    output_index: 0,
    item: { type: 'reasoning', id: reasoningId, summary: [] },
  });
  const position = { item_id: reasoningId, output_index: 0, summary_index: 0 };
  writer.add('response.reasoning_summary_part.added', {
    ...position,
    part: { type: 'summary_text', text: '' },
  });
  for (const delta of words(summary)) {
    writer.add('response.reasoning_summary_text.delta', { ...position, delta });
  }
  writer.add('response.reasoning_summary_text.done', { ...position, text: summary });
  const part = { type: 'summary_text', text: summary };
  writer.add('response.reasoning_summary_part.done', { ...position, part });
  const reasoning = { type: 'reasoning', id: reasoningId, summary: [part] };
  writer.add('response.output_item.done', { output_index: 0, item: reasoning });
  const message = addMessage(writer, { outputIndex: 1, text: '9.9 is larger than 9.11.' });
  writer.addResponse('response.completed', {
    status: 'completed',
    output: [reasoning, message],
    usage: usage(20, 42, 30),
  });
  writer.done();
  return { status: 200, headers: SSE_HEADERS, chunks: paced(pacing, writer.events) };
}

function responsesError({ pacing, model }: { pacing: DemoPacing; model: string }): ScriptedStream {
  const writer = responsesWriter(model);
  writer.addResponse('response.created', { status: 'in_progress' });
  writer.add('error', {
    code: 'rate_limit_exceeded',
    message: 'Rate limit exceeded. Please try again later.',
    param: null,
  });
  return { status: 200, headers: SSE_HEADERS, chunks: paced(pacing, writer.events) };
}

// --- Chat completions ----------------------------------------------------------------------

function chatText({ pacing, model }: { pacing: DemoPacing; model: string }): ScriptedStream {
  const id = `gen-${Date.now()}-${randomUUID().slice(0, 8)}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, unknown>, finish: string | null, extra = {}) =>
    encodeEvent({
      data: json({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta, finish_reason: finish }],
        ...extra,
      }),
    });
  const text = 'Record once, replay forever: no API key, no flaky network.';
  const events = [
    new TextEncoder().encode(': OPENROUTER PROCESSING\n\n'),
    ...words(text).map((content, index) =>
      chunk(index === 0 ? { role: 'assistant', content } : { content }, null),
    ),
    chunk({}, 'stop', { usage: { prompt_tokens: 11, completion_tokens: 12, total_tokens: 23 } }),
    encodeEvent({ data: '[DONE]' }),
  ];
  return { status: 200, headers: SSE_HEADERS, chunks: paced(pacing, events) };
}

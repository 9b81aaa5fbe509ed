import { type EventDataInput, type EventDataProblem, parseEventData } from './parse-event.js';
import type { StreamFamily } from './tape.js';

/** One output item as the user would see it (a message, a function call, reasoning, …). */
export interface AssembledItem {
  /** Position in the response's output (choice index for chat-completions). */
  outputIndex: number;
  /** `message`, `function_call`, `reasoning`, `custom_tool_call`, … as the provider named it. */
  type: string;
  id?: string;
  status?: string;
  /** Message text: every text content part joined. */
  text?: string;
  /** Why the model refused. */
  refusal?: string;
  /** Function or custom-tool name. */
  name?: string;
  /** Function-call arguments (JSON text) or a custom tool's input. */
  arguments?: string;
  callId?: string;
  /** Reasoning summaries, in order. */
  summary?: string[];
  /** Reasoning text, when the model exposes it. */
  reasoning?: string;
  /** Code a code-interpreter call ran. */
  code?: string;
  /** The diff of an apply-patch call. */
  diff?: string;
}

/** A function (or custom tool) the model called. */
export interface AssembledFunctionCall {
  outputIndex: number;
  itemId?: string;
  callId?: string;
  name: string;
  /** The arguments as JSON text, exactly as streamed. */
  arguments: string;
}

/** Token counts, whatever the family called them. */
export interface AssembledUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  reasoningTokens?: number;
  cachedTokens?: number;
}

/** An error the stream reported. */
export interface AssembledError {
  /** Opper's `error_type`, or the kind of error event. */
  type?: string;
  code?: string;
  message: string;
  /** Index of the event that carried it. */
  eventIndex: number;
}

/**
 * How the stream ended, as far as its events say:
 * - `completed`: a completion event (or, for Opper, no error);
 * - `incomplete`: stopped early (`response.incomplete`, chat `finish_reason: "length"`);
 * - `failed`: `response.failed`;
 * - `error`: an error event or chunk;
 * - `unfinished`: the events stop before any ending.
 */
export type AssembledStatus = 'completed' | 'incomplete' | 'failed' | 'error' | 'unfinished';

/** An event {@link assembleOutput} could not read as a known event. */
export interface AssembledProblem {
  eventIndex: number;
  /** `unknown` for an event of a type or shape this version does not know. */
  problem: Exclude<EventDataProblem, 'sentinel'> | 'unknown';
  message: string;
}

/** The user-visible result of a stream. */
export interface AssembledOutput {
  family: StreamFamily;
  /** All message text, in output order (like OpenAI's `output_text`). */
  text: string;
  items: AssembledItem[];
  functionCalls: AssembledFunctionCall[];
  /** Reasoning summaries and reasoning text, in output order. */
  reasoning: string[];
  /** The refusal text, when the model refused. */
  refusal?: string;
  /** Opper structured output, folded from `json` deltas by `json_path`. */
  json?: unknown;
  error?: AssembledError;
  status: AssembledStatus;
  /** Chat `finish_reason`, or the OpenResponses incomplete reason (e.g. `max_output_tokens`). */
  finishReason?: string;
  usage?: AssembledUsage;
  responseId?: string;
  model?: string;
  /** Opper's `span_id`. */
  upstreamSpanId?: string;
  /** Events that were not known events (they still count towards the output when readable). */
  problems: AssembledProblem[];
}

/**
 * Puts a stream back together from its events: the text of each output item, function calls
 * with name and arguments, reasoning, refusal, Opper JSON folded by `json_path` (e.g.
 * `people[0].name`), the error (also one that arrives mid-stream, after text), how it ended
 * and token usage.
 *
 * Unknown and malformed events never throw: their fields are used when they make sense and
 * they are listed in `problems`. Deltas are accumulated, and `.done` events, when present,
 * replace the accumulated text with the provider's final version.
 *
 * @example
 * ```ts
 * const output = assembleOutput('opper', [
 *   { data: '{"span_id":"3f1c…"}' },
 *   { data: '{"delta":"Ada","json_path":"people[0].name","chunk_type":"json"}' },
 * ]);
 * output.json; // { people: [{ name: 'Ada' }] }
 * ```
 */
export function assembleOutput(
  family: StreamFamily,
  events: ReadonlyArray<EventDataInput>,
): AssembledOutput {
  const output: AssembledOutput = {
    family,
    text: '',
    items: [],
    functionCalls: [],
    reasoning: [],
    status: 'unfinished',
    problems: [],
  };
  const values: Array<{ index: number; value: unknown; type?: string }> = [];
  events.forEach((event, index) => {
    const parsed = parseEventData(family, event);
    if (parsed.ok) {
      if (!parsed.known && family !== 'sse') {
        output.problems.push({
          eventIndex: index,
          problem: 'unknown',
          message: `event ${index} is not a known ${family} event; it is kept as is`,
        });
      }
      values.push({ index, value: parsed.value, type: event.type });
    } else if (parsed.problem !== 'sentinel') {
      output.problems.push({
        eventIndex: index,
        problem: parsed.problem,
        message: `event ${index}: ${parsed.message}`,
      });
      if (parsed.value !== undefined) values.push({ index, value: parsed.value, type: event.type });
    }
  });
  switch (family) {
    case 'opper':
      assembleOpper(output, values);
      break;
    case 'openresponses':
      assembleOpenResponses(output, values);
      break;
    case 'chat-completions':
      assembleChat(output, values);
      break;
    default:
      output.text = values
        .map(({ value }) => (typeof value === 'string' ? value : JSON.stringify(value)))
        .join('\n');
      output.status = 'completed';
      break;
  }
  return output;
}

type Values = Array<{ index: number; value: unknown; type?: string }>;
type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

// ---------------------------------------------------------------- Opper

function assembleOpper(output: AssembledOutput, values: Values): void {
  let text = '';
  let root: { value?: unknown } | undefined;
  for (const { index, value } of values) {
    if (!isObject(value)) continue;
    const spanId = str(value.span_id);
    if (spanId && output.upstreamSpanId === undefined) output.upstreamSpanId = spanId;
    const chunkType = str(value.chunk_type);
    if (chunkType === 'error' || str(value.error_message) !== undefined) {
      output.error ??= {
        type: str(value.error_type),
        message: str(value.error_message) ?? str(value.error_type) ?? 'error',
        eventIndex: index,
      };
      continue;
    }
    const delta = value.delta;
    if (delta === null || delta === undefined) continue;
    const jsonPath = str(value.json_path);
    if (chunkType === 'json' || (jsonPath !== undefined && chunkType !== 'text')) {
      root ??= {};
      foldJsonPath(root, jsonPath ?? '', delta);
    } else {
      text += String(delta);
    }
  }
  output.text = text;
  if (text !== '') output.items.push({ outputIndex: 0, type: 'message', text });
  if (root) output.json = root.value;
  output.status = output.error ? 'error' : 'completed';
}

/** Splits `people[0].name` or `a["b.c"][2]` into `['people', 0, 'name']`. */
function parseJsonPath(path: string): Array<string | number> {
  const segments: Array<string | number> = [];
  const pattern = /\[(\d+)\]|\[(["'])(.*?)\2\]|([^.[\]]+)/g;
  for (const match of path.matchAll(pattern)) {
    if (match[1] !== undefined) segments.push(Number(match[1]));
    else if (match[3] !== undefined) segments.push(match[3]);
    else if (match[4] !== undefined) segments.push(match[4]);
  }
  return segments;
}

function foldJsonPath(root: { value?: unknown }, path: string, delta: unknown): void {
  const segments: Array<string | number> = ['value', ...parseJsonPath(path)];
  let container: Json | unknown[] = root as Json;
  for (let position = 0; position < segments.length - 1; position++) {
    const key = segments[position] as string | number;
    const nextIsIndex = typeof segments[position + 1] === 'number';
    let child = read(container, key);
    if (nextIsIndex ? !Array.isArray(child) : !isObject(child)) {
      child = nextIsIndex ? [] : {};
      write(container, key, child);
    }
    container = child as Json | unknown[];
  }
  const leaf = segments[segments.length - 1] as string | number;
  const existing = read(container, leaf);
  // Text arrives in pieces; scalars (numbers, booleans) arrive whole.
  write(
    container,
    leaf,
    typeof existing === 'string' && typeof delta === 'string' ? existing + delta : delta,
  );
}

function read(container: Json | unknown[], key: string | number): unknown {
  if (Array.isArray(container)) return typeof key === 'number' ? container[key] : undefined;
  return Object.hasOwn(container, key) ? container[key] : undefined;
}

function write(container: Json | unknown[], key: string | number, value: unknown): void {
  if (Array.isArray(container) && typeof key === 'number') {
    while (container.length < key) container.push(null);
    container[key] = value;
    return;
  }
  // defineProperty, so a `__proto__` path segment makes a plain key, never a prototype.
  Object.defineProperty(container, String(key), {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

// ---------------------------------------------------------------- OpenResponses

interface ItemState {
  outputIndex: number;
  type?: string;
  id?: string;
  status?: string;
  contents: Map<number, { text?: string; refusal?: string }>;
  reasoning: Map<number, string>;
  summary: Map<number, string>;
  name?: string;
  arguments?: string;
  callId?: string;
  code?: string;
  diff?: string;
}

function assembleOpenResponses(output: AssembledOutput, values: Values): void {
  const items = new Map<number, ItemState>();
  const byItemId = new Map<string, ItemState>();
  const itemFor = (event: Json): ItemState | undefined => {
    const itemId = str(event.item_id);
    const outputIndex = num(event.output_index);
    if (outputIndex === undefined) return itemId ? byItemId.get(itemId) : undefined;
    let state = items.get(outputIndex);
    if (!state) {
      state = { outputIndex, contents: new Map(), reasoning: new Map(), summary: new Map() };
      items.set(outputIndex, state);
    }
    if (itemId) {
      state.id ??= itemId;
      byItemId.set(itemId, state);
    }
    return state;
  };
  const content = (state: ItemState, event: Json) => {
    const contentIndex = num(event.content_index) ?? 0;
    let part = state.contents.get(contentIndex);
    if (!part) {
      part = {};
      state.contents.set(contentIndex, part);
    }
    return part;
  };
  let finalResponse: Json | undefined;

  for (const { index, value } of values) {
    if (!isObject(value)) continue;
    const type = str(value.type) ?? '';
    const response = isObject(value.response) ? value.response : undefined;
    if (response) {
      output.responseId = str(response.id) ?? output.responseId;
      output.model = str(response.model) ?? output.model;
      const usage = readResponsesUsage(response.usage);
      if (usage) output.usage = usage;
    }
    switch (type) {
      case 'response.completed':
        output.status = 'completed';
        finalResponse = response;
        break;
      case 'response.incomplete': {
        output.status = 'incomplete';
        finalResponse = response;
        const details = response && isObject(response.incomplete_details) ? response : undefined;
        const reason = details ? str((details.incomplete_details as Json).reason) : undefined;
        if (reason) output.finishReason = reason;
        break;
      }
      case 'response.failed': {
        output.status = 'failed';
        finalResponse = response;
        const error = response && isObject(response.error) ? response.error : undefined;
        output.error ??= {
          type: 'response.failed',
          code: error ? str(error.code) : undefined,
          message: (error ? str(error.message) : undefined) ?? 'the response failed',
          eventIndex: index,
        };
        break;
      }
      case 'error':
        output.status = 'error';
        output.error ??= {
          type: 'error',
          code: str(value.code),
          message: str(value.message) ?? 'error',
          eventIndex: index,
        };
        break;
      case 'response.output_item.added':
      case 'response.output_item.done': {
        const item = isObject(value.item) ? value.item : undefined;
        const state = itemFor({ ...value, item_id: item ? str(item.id) : undefined });
        if (state && item) applyItem(state, item, type === 'response.output_item.done');
        break;
      }
      default:
        applyDelta(type, value, itemFor, content);
    }
  }

  // The final response's output is the provider's last word on every item; it also fills in
  // items that a stream carrying only lifecycle events never streamed.
  const finalOutput =
    finalResponse && Array.isArray(finalResponse.output) ? finalResponse.output : [];
  finalOutput.forEach((item, outputIndex) => {
    if (!isObject(item)) return;
    const state = itemFor({ output_index: outputIndex, item_id: str(item.id) });
    if (state) applyItem(state, item, true);
  });

  for (const state of [...items.values()].sort((a, b) => a.outputIndex - b.outputIndex)) {
    const item = toAssembledItem(state);
    output.items.push(item);
    if (item.text) output.text += item.text;
    if (item.refusal) output.refusal = (output.refusal ?? '') + item.refusal;
    if (item.summary) output.reasoning.push(...item.summary);
    if (item.reasoning) output.reasoning.push(item.reasoning);
    if (item.type === 'function_call' || item.type === 'custom_tool_call') {
      output.functionCalls.push({
        outputIndex: item.outputIndex,
        itemId: item.id,
        callId: item.callId,
        name: item.name ?? '',
        arguments: item.arguments ?? '',
      });
    }
  }
}

function applyDelta(
  type: string,
  event: Json,
  itemFor: (event: Json) => ItemState | undefined,
  content: (state: ItemState, event: Json) => { text?: string; refusal?: string },
): void {
  const state = itemFor(event);
  if (!state) return;
  const delta = str(event.delta) ?? '';
  switch (type) {
    case 'response.output_text.delta': {
      state.type ??= 'message';
      const part = content(state, event);
      part.text = (part.text ?? '') + delta;
      break;
    }
    case 'response.output_text.done': {
      const text = str(event.text);
      if (text !== undefined) content(state, event).text = text;
      break;
    }
    case 'response.refusal.delta': {
      state.type ??= 'message';
      const part = content(state, event);
      part.refusal = (part.refusal ?? '') + delta;
      break;
    }
    case 'response.refusal.done': {
      const refusal = str(event.refusal);
      if (refusal !== undefined) content(state, event).refusal = refusal;
      break;
    }
    case 'response.content_part.added':
    case 'response.content_part.done': {
      const part = isObject(event.part) ? event.part : undefined;
      if (!part) break;
      const done = type === 'response.content_part.done';
      const target = content(state, event);
      if (part.type === 'output_text' && (done || target.text === undefined)) {
        target.text = str(part.text) ?? target.text;
      } else if (part.type === 'refusal' && (done || target.refusal === undefined)) {
        target.refusal = str(part.refusal) ?? target.refusal;
      } else if (part.type === 'reasoning_text') {
        const contentIndex = num(event.content_index) ?? 0;
        if (done || !state.reasoning.has(contentIndex)) {
          state.reasoning.set(contentIndex, str(part.text) ?? '');
        }
      }
      break;
    }
    case 'response.function_call_arguments.delta':
      state.type ??= 'function_call';
      state.arguments = (state.arguments ?? '') + delta;
      break;
    case 'response.function_call_arguments.done':
      state.type ??= 'function_call';
      state.name = str(event.name) ?? state.name;
      state.arguments = str(event.arguments) ?? state.arguments;
      break;
    case 'response.custom_tool_call_input.delta':
      state.type ??= 'custom_tool_call';
      state.arguments = (state.arguments ?? '') + delta;
      break;
    case 'response.custom_tool_call_input.done':
      state.type ??= 'custom_tool_call';
      state.arguments = str(event.input) ?? state.arguments;
      break;
    case 'response.reasoning_text.delta': {
      state.type ??= 'reasoning';
      const contentIndex = num(event.content_index) ?? 0;
      state.reasoning.set(contentIndex, (state.reasoning.get(contentIndex) ?? '') + delta);
      break;
    }
    case 'response.reasoning_text.done': {
      const text = str(event.text);
      if (text !== undefined) state.reasoning.set(num(event.content_index) ?? 0, text);
      break;
    }
    case 'response.reasoning_summary_part.added':
    case 'response.reasoning_summary_part.done': {
      state.type ??= 'reasoning';
      const summaryIndex = num(event.summary_index) ?? 0;
      const part = isObject(event.part) ? event.part : undefined;
      const text = part ? str(part.text) : undefined;
      if (type.endsWith('.done') ? text !== undefined : !state.summary.has(summaryIndex)) {
        state.summary.set(summaryIndex, text ?? '');
      }
      break;
    }
    case 'response.reasoning_summary_text.delta': {
      state.type ??= 'reasoning';
      const summaryIndex = num(event.summary_index) ?? 0;
      state.summary.set(summaryIndex, (state.summary.get(summaryIndex) ?? '') + delta);
      break;
    }
    case 'response.reasoning_summary_text.done': {
      const text = str(event.text);
      if (text !== undefined) state.summary.set(num(event.summary_index) ?? 0, text);
      break;
    }
    case 'response.code_interpreter_call_code.delta':
      state.type ??= 'code_interpreter_call';
      state.code = (state.code ?? '') + delta;
      break;
    case 'response.code_interpreter_call_code.done':
      state.type ??= 'code_interpreter_call';
      state.code = str(event.code) ?? state.code;
      break;
    case 'response.apply_patch_call_operation_diff.delta':
      state.type ??= 'apply_patch_call';
      state.diff = (state.diff ?? '') + delta;
      break;
    case 'response.apply_patch_call_operation_diff.done':
      state.type ??= 'apply_patch_call';
      state.diff = str(event.diff) ?? state.diff;
      break;
    default:
      break;
  }
}

function applyItem(state: ItemState, item: Json, done: boolean): void {
  state.type = str(item.type) ?? state.type;
  state.id = str(item.id) ?? state.id;
  state.status = str(item.status) ?? state.status;
  const prefer = (current: string | undefined, next: string | undefined) =>
    next === undefined ? current : done || current === undefined ? next : current;
  state.name = prefer(state.name, str(item.name));
  state.callId = prefer(state.callId, str(item.call_id));
  state.arguments = prefer(state.arguments, str(item.arguments) ?? str(item.input));
  state.code = prefer(state.code, str(item.code));
  const operation = isObject(item.operation) ? item.operation : undefined;
  if (operation && str(operation.diff)) state.diff = prefer(state.diff, str(operation.diff));
  if (!done) return;
  // The finished item is the provider's final word: it replaces what the deltas built.
  if (Array.isArray(item.content)) {
    item.content.forEach((part, contentIndex) => {
      if (!isObject(part)) return;
      if (part.type === 'output_text' || part.type === 'refusal') {
        const target = state.contents.get(contentIndex) ?? {};
        if (part.type === 'output_text') target.text = str(part.text) ?? target.text;
        else target.refusal = str(part.refusal) ?? target.refusal;
        state.contents.set(contentIndex, target);
      } else if (part.type === 'reasoning_text') {
        state.reasoning.set(contentIndex, str(part.text) ?? '');
      }
    });
  }
  if (Array.isArray(item.summary)) {
    item.summary.forEach((part, summaryIndex) => {
      const text = isObject(part) ? str(part.text) : undefined;
      if (text !== undefined) state.summary.set(summaryIndex, text);
    });
  }
}

function toAssembledItem(state: ItemState): AssembledItem {
  const item: AssembledItem = { outputIndex: state.outputIndex, type: state.type ?? 'unknown' };
  if (state.id !== undefined) item.id = state.id;
  if (state.status !== undefined) item.status = state.status;
  const parts = [...state.contents.entries()].sort(([a], [b]) => a - b).map(([, part]) => part);
  const texts = parts.flatMap((part) => (part.text === undefined ? [] : [part.text]));
  const refusals = parts.flatMap((part) => (part.refusal === undefined ? [] : [part.refusal]));
  if (texts.length > 0) item.text = texts.join('');
  if (refusals.length > 0) item.refusal = refusals.join('');
  if (state.name !== undefined) item.name = state.name;
  if (state.arguments !== undefined) item.arguments = state.arguments;
  if (state.callId !== undefined) item.callId = state.callId;
  if (state.code !== undefined) item.code = state.code;
  if (state.diff !== undefined) item.diff = state.diff;
  if (state.summary.size > 0) {
    item.summary = [...state.summary.entries()].sort(([a], [b]) => a - b).map(([, text]) => text);
  }
  if (state.reasoning.size > 0) {
    item.reasoning = [...state.reasoning.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, text]) => text)
      .join('');
  }
  return item;
}

function readResponsesUsage(usage: unknown): AssembledUsage | undefined {
  if (!isObject(usage)) return undefined;
  const result: AssembledUsage = {};
  const set = (key: keyof AssembledUsage, value: unknown) => {
    const number = num(value);
    if (number !== undefined) result[key] = number;
  };
  set('inputTokens', usage.input_tokens ?? usage.prompt_tokens);
  set('outputTokens', usage.output_tokens ?? usage.completion_tokens);
  set('totalTokens', usage.total_tokens);
  const inputDetails = usage.input_tokens_details ?? usage.prompt_tokens_details;
  const outputDetails = usage.output_tokens_details ?? usage.completion_tokens_details;
  if (isObject(inputDetails)) set('cachedTokens', inputDetails.cached_tokens);
  if (isObject(outputDetails)) set('reasoningTokens', outputDetails.reasoning_tokens);
  return Object.keys(result).length > 0 ? result : undefined;
}

// ---------------------------------------------------------------- chat completions

interface ChoiceState {
  text?: string;
  refusal?: string;
  reasoning?: string;
  finishReason?: string;
  toolCalls: Map<number, { id?: string; name?: string; arguments: string }>;
}

function assembleChat(output: AssembledOutput, values: Values): void {
  const choices = new Map<number, ChoiceState>();
  let finishReason: string | undefined;
  for (const { index, value } of values) {
    if (!isObject(value)) continue;
    output.responseId ??= str(value.id);
    output.model ??= str(value.model);
    const usage = readResponsesUsage(value.usage);
    if (usage) output.usage = usage;
    if (isObject(value.error)) {
      const code = value.error.code;
      output.error ??= {
        type: str(value.error.type),
        code: typeof code === 'number' ? String(code) : str(code),
        message: str(value.error.message) ?? 'error',
        eventIndex: index,
      };
    }
    if (!Array.isArray(value.choices)) continue;
    for (const choice of value.choices) {
      if (!isObject(choice)) continue;
      const choiceIndex = num(choice.index) ?? 0;
      let state = choices.get(choiceIndex);
      if (!state) {
        state = { toolCalls: new Map() };
        choices.set(choiceIndex, state);
      }
      const delta = isObject(choice.delta) ? choice.delta : {};
      const content = str(delta.content);
      if (content) state.text = (state.text ?? '') + content;
      const refusal = str(delta.refusal);
      if (refusal) state.refusal = (state.refusal ?? '') + refusal;
      const reasoning = str(delta.reasoning) ?? str(delta.reasoning_content);
      if (reasoning) state.reasoning = (state.reasoning ?? '') + reasoning;
      if (Array.isArray(delta.tool_calls)) {
        for (const call of delta.tool_calls) {
          if (!isObject(call)) continue;
          const callIndex = num(call.index) ?? 0;
          const target = state.toolCalls.get(callIndex) ?? { arguments: '' };
          target.id = str(call.id) || target.id;
          const fn = isObject(call.function) ? call.function : {};
          target.name = str(fn.name) || target.name;
          target.arguments += str(fn.arguments) ?? '';
          state.toolCalls.set(callIndex, target);
        }
      }
      const reason = str(choice.finish_reason);
      if (reason) {
        state.finishReason = reason;
        finishReason ??= reason;
      }
    }
  }
  for (const [choiceIndex, state] of [...choices.entries()].sort(([a], [b]) => a - b)) {
    const item: AssembledItem = { outputIndex: choiceIndex, type: 'message' };
    if (state.text !== undefined) item.text = state.text;
    if (state.refusal !== undefined) item.refusal = state.refusal;
    if (state.reasoning !== undefined) item.reasoning = state.reasoning;
    if (state.finishReason !== undefined) item.status = state.finishReason;
    output.items.push(item);
    if (state.text) output.text += state.text;
    if (state.refusal) output.refusal = (output.refusal ?? '') + state.refusal;
    if (state.reasoning) output.reasoning.push(state.reasoning);
    for (const [, call] of [...state.toolCalls.entries()].sort(([a], [b]) => a - b)) {
      output.items.push({
        outputIndex: choiceIndex,
        type: 'function_call',
        name: call.name ?? '',
        arguments: call.arguments,
        ...(call.id !== undefined && { callId: call.id }),
      });
      output.functionCalls.push({
        outputIndex: choiceIndex,
        callId: call.id,
        name: call.name ?? '',
        arguments: call.arguments,
      });
    }
  }
  if (finishReason) output.finishReason = finishReason;
  output.status = output.error
    ? 'error'
    : finishReason === 'length' || finishReason === 'content_filter'
      ? 'incomplete'
      : finishReason === 'error'
        ? 'error'
        : finishReason
          ? 'completed'
          : 'unfinished';
}

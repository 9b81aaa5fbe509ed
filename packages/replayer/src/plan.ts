import { createParser, encodeEvent } from '@tapedeck/sse';
import { type Tape, TapedeckError, type TapeEvent } from '@tapedeck/types';
import type { ReplayChunking, ReplayFault, ReplayTiming } from './types.js';

/** One chunk the replay will send: tape bytes `[start, end)` or injected bytes, at `atMs`. */
export interface PlannedPiece {
  start: number;
  end: number;
  /** Bytes that are not in the tape (an injected error event). */
  bytes?: Uint8Array;
  /** Milliseconds after the response started when this piece is due. */
  atMs: number;
}

/** What a replay sends and how it ends. */
export interface ReplayPlan {
  pieces: PlannedPiece[];
  /** `cut`: the stream errors like a dropped connection after the last piece. */
  end: 'close' | 'cut';
  /** Where the cut happened, for the error message. */
  cutAtByte?: number;
}

interface TimingSettings {
  recorded: boolean;
  speed: number;
  maxGapMs: number;
}

/** Normalises the `timing` option; throws on nonsense so a typo does not replay silently. */
export function resolveTiming(timing: ReplayTiming | undefined): TimingSettings {
  if (timing === undefined || timing === 'instant') {
    return { recorded: false, speed: 1, maxGapMs: Number.POSITIVE_INFINITY };
  }
  if (timing === 'recorded')
    return { recorded: true, speed: 1, maxGapMs: Number.POSITIVE_INFINITY };
  if (typeof timing === 'object' && timing !== null) {
    const mode = 'mode' in timing ? timing.mode : 'recorded';
    const speed = timing.speed ?? 1;
    const maxGapMs = timing.maxGapMs ?? Number.POSITIVE_INFINITY;
    if (!(speed > 0) || !(maxGapMs >= 0) || (mode !== 'recorded' && mode !== 'instant')) {
      throw invalid(`timing ${JSON.stringify(timing)}: speed must be > 0 and maxGapMs >= 0`);
    }
    return { recorded: mode === 'recorded', speed, maxGapMs };
  }
  throw invalid(
    `timing ${JSON.stringify(timing)} is not 'instant', 'recorded' or {speed, maxGapMs}`,
  );
}

function invalid(message: string): TapedeckError {
  return new TapedeckError({ code: 'INVALID_ARGUMENT', message });
}

/**
 * Arrival time of each tape byte range: the recorded chunk that holds the range's last byte.
 * A byte cannot be sent before it was recorded, so a re-chunked piece is due when its last
 * byte arrived.
 */
function createArrivalLookup(tape: Tape): (endExclusive: number) => number {
  const ends: number[] = [];
  const offsets: number[] = [];
  let position = 0;
  for (const chunk of tape.chunks) {
    position += chunk.byteLength;
    ends.push(position);
    offsets.push(chunk.offsetMs);
  }
  let cursor = 0;
  // Queries come in increasing order, so a moving cursor keeps this linear overall.
  return (endExclusive) => {
    if (ends.length === 0) return 0;
    if (cursor > 0 && ends[cursor - 1]! >= endExclusive) cursor = 0;
    while (cursor < ends.length - 1 && ends[cursor]! < endExclusive) cursor += 1;
    return offsets[cursor]!;
  };
}

function recordedBoundaries(tape: Tape): number[] {
  const boundaries: number[] = [];
  let position = 0;
  for (const chunk of tape.chunks) {
    position += chunk.byteLength;
    if (chunk.byteLength > 0) boundaries.push(Math.min(position, tape.raw.length));
  }
  return boundaries;
}

const withEvents = new WeakMap<Tape, Tape>();

/**
 * A tape whose `events` describe its bytes. Tapes from a store always have them; a tape built
 * by hand or imported from raw bytes may not, so its events are framed from `raw` with the
 * SSE parser (byte ranges only; the data stays lazy).
 */
export function ensureEvents(tape: Tape): Tape {
  if (tape.events.length > 0 || tape.raw.length === 0) return tape;
  const cached = withEvents.get(tape);
  if (cached) return cached;
  const events: TapeEvent[] = [];
  const parser = createParser({
    mode: 'framing',
    onEvent: (event) => {
      events.push({
        index: event.index,
        offsetMs: 0,
        byteStart: event.byteStart,
        byteEnd: event.byteEnd,
        type: event.type,
        id: event.id,
        get data() {
          return event.data;
        },
      });
    },
  });
  parser.feed(tape.raw);
  parser.end();
  const framed = { ...tape, events };
  withEvents.set(tape, framed);
  return framed;
}

function eventBoundaries(tape: Tape): number[] {
  return tape.events.map((event) => event.byteEnd);
}

/** mulberry32: tiny, fast, and the same sequence for the same seed everywhere. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random cut positions. Besides uniform cuts, every CRLF pair and every multi-byte UTF-8
 * character is split with probability one half, since those are where client parsers break.
 */
function randomBoundaries(raw: Uint8Array, seed: number, maxChunkBytes: number): number[] {
  const random = createRandom(seed);
  const boundaries: number[] = [];
  let last = 0;
  for (let position = 1; position < raw.length; position += 1) {
    const byte = raw[position]!;
    const previous = raw[position - 1]!;
    const insideCrlf = previous === 0x0d && byte === 0x0a;
    const insideCharacter = (byte & 0xc0) === 0x80;
    const probability = insideCrlf || insideCharacter ? 0.5 : 2 / maxChunkBytes;
    if (random() < probability || position - last >= maxChunkBytes) {
      boundaries.push(position);
      last = position;
    }
  }
  boundaries.push(raw.length);
  return boundaries;
}

/** Chunk boundaries (exclusive ends, increasing, last = raw length) for a chunking mode. */
export function chunkBoundaries(tape: Tape, chunking: ReplayChunking | undefined): number[] {
  const length = tape.raw.length;
  let boundaries: number[];
  if (chunking === undefined || chunking === 'recorded') {
    boundaries = recordedBoundaries(tape);
  } else if (chunking === 'event') {
    boundaries = eventBoundaries(tape);
  } else if (typeof chunking === 'object' && chunking?.split === 'random') {
    const maxChunkBytes = chunking.maxChunkBytes ?? 64;
    if (!Number.isInteger(chunking.seed) || !(maxChunkBytes >= 1)) {
      throw invalid(`chunking ${JSON.stringify(chunking)}: seed must be an integer`);
    }
    boundaries = randomBoundaries(tape.raw, chunking.seed, maxChunkBytes);
  } else {
    throw invalid(
      `chunking ${JSON.stringify(chunking)} is not 'recorded', 'event' or {split: 'random', seed}`,
    );
  }
  const cleaned: number[] = [];
  for (const boundary of boundaries) {
    const previous = cleaned.length > 0 ? cleaned[cleaned.length - 1]! : 0;
    if (boundary > previous && boundary <= length) cleaned.push(boundary);
  }
  if (length > 0 && cleaned[cleaned.length - 1] !== length) cleaned.push(length);
  return cleaned;
}

function eventEnd(tape: Tape, afterEvents: number, what: string): number {
  if (!Number.isInteger(afterEvents) || afterEvents < 0) {
    throw invalid(`fault ${what}: afterEvents must be a whole number, got ${afterEvents}`);
  }
  if (afterEvents === 0) return 0;
  const event = tape.events[Math.min(afterEvents, tape.events.length) - 1];
  return event ? event.byteEnd : 0;
}

/** The family's own mid-stream error event, as the provider would send it. */
export function encodeFamilyError(
  tape: Tape,
  sentEvents: number,
  fault: { code?: string; message?: string; as?: 'error' | 'response.failed' },
): Uint8Array {
  const code = fault.code ?? 'server_error';
  const message = fault.message ?? 'The server had an error while processing your request.';
  if (tape.family === 'opper') {
    const data = { chunk_type: 'error', error_type: code, error_message: message };
    return encodeEvent({ data: JSON.stringify(data) });
  }
  if (tape.family === 'openresponses') {
    const sequenceNumber = sentEvents;
    if (fault.as === 'response.failed') {
      const response = lastResponseObject(tape, sentEvents) ?? {
        id: tape.responseId ?? 'resp_tapedeck',
        object: 'response',
        model: tape.model ?? null,
        output: [],
      };
      const failed = {
        ...response,
        status: 'failed',
        error: { code, message },
      };
      const data = {
        type: 'response.failed',
        sequence_number: sequenceNumber,
        response: failed,
      };
      return encodeEvent({ event: 'response.failed', data: JSON.stringify(data) });
    }
    const data = { type: 'error', sequence_number: sequenceNumber, code, message, param: null };
    return encodeEvent({ event: 'error', data: JSON.stringify(data) });
  }
  if (tape.family === 'chat-completions') {
    // OpenRouter's mid-stream error: a chunk with `error` and finish_reason 'error'.
    const last = lastJsonEvent(tape, sentEvents);
    const numeric = Number(fault.code);
    const data = {
      id: last?.id ?? 'gen-tapedeck',
      object: 'chat.completion.chunk',
      created: last?.created ?? 0,
      model: last?.model ?? tape.model ?? 'unknown',
      error: { code: Number.isInteger(numeric) ? numeric : 502, message },
      choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }],
    };
    return encodeEvent({ data: JSON.stringify(data) });
  }
  const data = { error: { code, message } };
  return encodeEvent({ data: JSON.stringify(data) });
}

function lastJsonEvent(tape: Tape, sentEvents: number): Record<string, unknown> | undefined {
  for (let index = Math.min(sentEvents, tape.events.length) - 1; index >= 0; index -= 1) {
    try {
      const parsed = JSON.parse(tape.events[index]!.data) as unknown;
      if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
    } catch {
      // Not JSON (e.g. [DONE]): keep looking further back.
    }
  }
  return undefined;
}

function lastResponseObject(tape: Tape, sentEvents: number): Record<string, unknown> | undefined {
  for (let index = Math.min(sentEvents, tape.events.length) - 1; index >= 0; index -= 1) {
    try {
      const parsed = JSON.parse(tape.events[index]!.data) as { response?: unknown };
      if (parsed && typeof parsed.response === 'object' && parsed.response !== null) {
        return parsed.response as Record<string, unknown>;
      }
    } catch {
      // Not JSON: keep looking further back.
    }
  }
  return undefined;
}

/**
 * Builds the replay plan: which bytes go out in which chunk and when, with the faults applied.
 * Everything here is pure so it can be tested without streams or clocks.
 */
export function planReplay({
  tape,
  timing,
  chunking,
  faults = [],
}: {
  tape: Tape;
  timing?: ReplayTiming;
  chunking?: ReplayChunking;
  faults?: ReplayFault[];
}): ReplayPlan {
  tape = ensureEvents(tape);
  const settings = resolveTiming(timing);
  let boundaries = chunkBoundaries(tape, chunking);
  let limit = tape.raw.length;
  let end: ReplayPlan['end'] = 'close';
  let injected: Uint8Array | undefined;
  const stalls: Array<{ at: number; durationMs: number }> = [];
  let firstByteDelayMs = 0;

  for (const fault of faults) {
    switch (fault.type) {
      case 'cut': {
        const byEvents =
          fault.afterEvents === undefined ? limit : eventEnd(tape, fault.afterEvents, 'cut');
        const byBytes = fault.afterBytes === undefined ? limit : Math.max(0, fault.afterBytes);
        if (fault.afterEvents === undefined && fault.afterBytes === undefined) {
          throw invalid('fault {type: "cut"} needs afterEvents or afterBytes');
        }
        const at = Math.min(limit, byEvents, byBytes);
        if (at < limit || end !== 'cut') {
          limit = at;
          end = 'cut';
          injected = undefined;
        }
        break;
      }
      case 'error-event': {
        const sentEvents = Math.min(fault.afterEvents ?? tape.events.length, tape.events.length);
        const at = eventEnd(tape, sentEvents, 'error-event');
        if (at <= limit) {
          limit = at;
          end = 'close';
          injected = encodeFamilyError(tape, sentEvents, fault);
        }
        break;
      }
      case 'stall': {
        if (!(fault.durationMs >= 0)) throw invalid('fault stall: durationMs must be >= 0');
        stalls.push({
          at: eventEnd(tape, fault.afterEvents, 'stall'),
          durationMs: fault.durationMs,
        });
        break;
      }
      case 'first-byte-delay': {
        if (!(fault.delayMs >= 0)) throw invalid('fault first-byte-delay: delayMs must be >= 0');
        firstByteDelayMs += fault.delayMs;
        break;
      }
      case 'status':
        // Handled before any body is built.
        break;
      default:
        throw invalid(`unknown fault ${JSON.stringify(fault)}`);
    }
  }

  // Stall points and the limit become chunk boundaries so the pause or cut is exact.
  const extra = [limit, ...stalls.map((stall) => stall.at)].filter(
    (position) => position > 0 && position < tape.raw.length,
  );
  if (extra.length > 0) {
    boundaries = [...new Set([...boundaries, ...extra])].sort((a, b) => a - b);
  }

  const arrival = createArrivalLookup(tape);
  const pieces: PlannedPiece[] = [];
  let start = 0;
  let previousRecordedMs = 0;
  let scheduledMs = 0;
  for (const boundary of boundaries) {
    if (boundary > limit) break;
    if (settings.recorded) {
      const recordedMs = Math.max(previousRecordedMs, arrival(boundary));
      const gapMs = Math.min((recordedMs - previousRecordedMs) / settings.speed, settings.maxGapMs);
      scheduledMs += gapMs;
      previousRecordedMs = recordedMs;
    }
    pieces.push({ start, end: boundary, atMs: scheduledMs });
    start = boundary;
  }
  if (injected) {
    // The error arrives when the next recorded byte would have.
    let atMs = scheduledMs;
    if (settings.recorded && limit < tape.raw.length) {
      const recordedMs = Math.max(previousRecordedMs, arrival(limit + 1));
      atMs += Math.min((recordedMs - previousRecordedMs) / settings.speed, settings.maxGapMs);
    }
    pieces.push({ start: 0, end: injected.length, bytes: injected, atMs });
  }
  for (const piece of pieces) {
    let shiftMs = firstByteDelayMs;
    for (const stall of stalls) {
      if (piece.start >= stall.at && !piece.bytes) shiftMs += stall.durationMs;
      else if (piece.bytes && limit >= stall.at) shiftMs += stall.durationMs;
    }
    piece.atMs += shiftMs;
  }
  return end === 'cut' ? { pieces, end, cutAtByte: limit } : { pieces, end };
}

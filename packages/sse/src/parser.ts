import { TapedeckError } from '@tapedeck/types';
import {
  concatBytes,
  decodeUtf8,
  indexOfByte,
  LARGE_VALUE_BYTES,
  lastIndexOfByte,
  wasmUtf8Decoder,
} from './bytes.js';

/**
 * One dispatched Server-Sent Event, with where its raw bytes sit in the stream.
 *
 * The byte range `[byteStart, byteEnd)` covers every raw line of the event (comments, unknown
 * fields and line ends included) through the blank line that dispatched it. Offsets count from
 * the first byte fed, BOM included. Bytes outside every range are blank lines and comment-only or
 * data-less blocks, so the ranges and those leftovers tile the input.
 */
export interface ParsedEvent {
  /** The `event` field, or `message` when the event had none (or an empty one). */
  type: string;
  /** The `data` lines joined with LF. In `framing` mode this is decoded on first access. */
  data: string;
  /** The last event id: persists across events until the server sends another `id` line. */
  id: string;
  /** The event's own valid `retry` value in milliseconds, when it had one. */
  retry?: number;
  /** Comment lines inside the event's block, without the `:` and one following space. */
  comments: string[];
  /** Absolute offset of the event's first byte. */
  byteStart: number;
  /** Absolute offset just past the dispatching blank line (exclusive). */
  byteEnd: number;
  /** 0-based position of this event among the dispatched events of the stream. */
  index: number;
}

/** Another name for {@link ParsedEvent}: what `SseParserStream` yields. */
export type SseEvent = ParsedEvent;

/** What went wrong while parsing: a truncated event at the end, or an event over the limit. */
export type ParseErrorType = 'incomplete-event' | 'event-too-large';

/**
 * The error handed to `onError`. `code` is `INVALID_EVENT` for `incomplete-event` and
 * `SSE_LIMIT_EXCEEDED` for `event-too-large`.
 */
export class ParseError extends TapedeckError {
  /** Which problem this is. */
  readonly type: ParseErrorType;
  /** Absolute offset of the first byte of the event concerned. */
  readonly byteOffset: number;
  /** For `incomplete-event`: the raw bytes of the undispatched event, so nothing is lost. */
  readonly bytes?: Uint8Array;

  constructor({
    type,
    message,
    byteOffset,
    eventIndex,
    bytes,
  }: {
    type: ParseErrorType;
    message: string;
    byteOffset: number;
    eventIndex: number;
    bytes?: Uint8Array;
  }) {
    super({
      code: type === 'event-too-large' ? 'SSE_LIMIT_EXCEEDED' : 'INVALID_EVENT',
      message,
      context: { byteOffset, eventIndex },
    });
    this.name = 'ParseError';
    this.type = type;
    this.byteOffset = byteOffset;
    if (bytes !== undefined) this.bytes = bytes;
  }
}

/** `full` decodes every event's data; `framing` finds boundaries and decodes `data` on access. */
export type ParserMode = 'full' | 'framing';

/** Options for {@link createParser}. */
export interface CreateParserOptions {
  /** Called for every dispatched event, in order. */
  onEvent: (event: ParsedEvent) => void;
  /** Called for every comment line (the text after `:` and one optional space). */
  onComment?: (comment: string) => void;
  /** Called for every valid `retry` line with its value in milliseconds. */
  onRetry?: (retryMs: number) => void;
  /** Called for an event over `maxEventBytes` and for an incomplete event at `end()`. */
  onError?: (error: ParseError) => void;
  /**
   * Largest event, in bytes, the parser will hold (default 16 MiB). A longer event is dropped
   * with an `event-too-large` error and parsing resumes after the next blank line.
   */
  maxEventBytes?: number;
  /** `full` (default) or `framing`. */
  mode?: ParserMode;
  /**
   * For tests only, so every decoding path can be exercised: the chunk size from which full mode
   * decodes a chunk's lines at once instead of value by value (default 4096); whether it may use
   * the WebAssembly decoder (default true); the value size from which values that are not ASCII
   * go to the WebAssembly decoder or TextDecoder rather than V8's decoder (default 256).
   */
  _internal?: { regionMinBytes?: number; wasm?: boolean; largeValueBytes?: number };
}

/** An incremental SSE parser. */
export interface SseParser {
  /**
   * Parses the next piece of the stream. Strings are taken as UTF-8 text. Callbacks run inside
   * `feed`; if one throws, the error propagates and the rest of that chunk is not parsed, so call
   * `reset()` before feeding that parser again.
   */
  feed(chunk: Uint8Array | string): void;
  /**
   * Ends the stream: reports an unterminated event through `onError` as `incomplete-event`
   * (it is not dispatched, as the spec says), then resets the parser for a new stream.
   */
  end(): void;
  /** Forgets everything (partial lines, last event id, offsets) to start a new stream. */
  reset(): void;
  /** Bytes currently held for an unfinished event; never much more than `maxEventBytes`. */
  bufferedBytes(): number;
}

/** Default for `maxEventBytes`: 16 MiB. */
export const DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024;

const LF = 10;
const CR = 13;
const SPACE = 32;
const COLON = 58;
const NULL = 0;
const SMALL_PIECE_BYTES = 4096;
// Below this chunk size full mode decodes value by value instead of the whole chunk at once.
const REGION_MIN_BYTES = 4096;
const BOM = [0xef, 0xbb, 0xbf] as const;
const textEncoder = new TextEncoder();

/**
 * Creates an incremental, byte-level parser implementing the WHATWG HTML "event stream
 * interpretation": UTF-8 with one leading BOM stripped; LF, CR and CRLF line ends (also when a
 * CRLF is split across chunks); comments; fields with and without a colon; one leading space
 * removed; `data` lines joined with LF; `event` type defaulting to `message`; `id` with NULL
 * ignored and persisting across events; `retry` only when all ASCII digits; blocks with no data
 * not dispatched. The parser keeps references to the chunks it is fed (no copies on the hot
 * path), so do not modify a chunk after feeding it.
 *
 * @example
 * ```ts
 * const parser = createParser({ onEvent: (event) => console.log(event.type, event.data) });
 * parser.feed(new TextEncoder().encode('event: ping\ndata: hello\n\n'));
 * parser.end();
 * ```
 */
export function createParser({
  onEvent,
  onComment,
  onRetry,
  onError,
  maxEventBytes = DEFAULT_MAX_EVENT_BYTES,
  mode = 'full',
  _internal,
}: CreateParserOptions): SseParser {
  if (typeof onEvent !== 'function')
    throw new TapedeckError({
      code: 'INVALID_ARGUMENT',
      message: 'createParser needs an onEvent callback: createParser({ onEvent: (event) => … })',
    });
  if (!(maxEventBytes > 0))
    throw new TapedeckError({
      code: 'INVALID_ARGUMENT',
      message: `createParser: maxEventBytes must be a positive number of bytes, got ${maxEventBytes}`,
    });
  const framing = mode === 'framing';
  const regionMinBytes = _internal?.regionMinBytes ?? REGION_MIN_BYTES;
  const largeValueBytes = _internal?.largeValueBytes ?? LARGE_VALUE_BYTES;
  const wasm = _internal?.wasm === false ? null : wasmUtf8Decoder;

  // Stream position and framing state.
  let offset = 0; // absolute offset of the next byte to arrive
  let bomChecked = false;
  let bomHeld: Uint8Array | null = null; // first bytes, while they could still be a BOM
  let heldSurrogate = ''; // a high surrogate at the end of a string chunk
  let crEnded = false; // the last chunk ended with CR: a leading LF completes that CRLF
  let dispatchPending = false; // a blank line ended at that CR: dispatch once we know about the LF
  let skipping = false; // after event-too-large, skip lines up to the next blank line
  let lineStart = 0; // absolute offset of the current line's first byte
  let blockStart = 0; // absolute offset of the current block's first byte
  let blockHasFields = false; // the block has a non-comment line
  // Raw bytes of the current block that arrived in earlier chunks: [blockStart, chunk start).
  let carry: Uint8Array[] = [];
  let carryBytes = 0;
  // Small pieces (a stream fed a few bytes at a time) are copied into one growing buffer instead
  // of each being kept as its own view, which would cost far more memory than the bytes held.
  let carryTail: Uint8Array | null = null;
  let carryTailLength = 0;

  function carryPush(piece: Uint8Array): void {
    carryBytes += piece.length;
    if (piece.length >= SMALL_PIECE_BYTES || carry.length < 8) {
      carry.push(piece);
      carryTail = null;
      return;
    }
    if (carryTail === null || carryTailLength + piece.length > carryTail.length) {
      const grown = new Uint8Array(
        Math.max(SMALL_PIECE_BYTES, 2 * (carryTailLength + piece.length)),
      );
      if (carryTail !== null) {
        grown.set(carryTail.subarray(0, carryTailLength));
        carry.pop();
      } else {
        carryTailLength = 0;
      }
      carryTail = grown;
    } else {
      carry.pop();
    }
    carryTail.set(piece, carryTailLength);
    carryTailLength += piece.length;
    carry.push(carryTail.subarray(0, carryTailLength));
  }

  function clearCarry(): void {
    carry = [];
    carryBytes = 0;
    carryTail = null;
    carryTailLength = 0;
  }

  // The event being built.
  let eventType = '';
  let dataLines = 0;
  let dataText = ''; // full mode: the data lines so far, joined
  let firstData: Uint8Array | null = null; // framing mode: where the data lines' bytes are
  let firstDataStart = 0;
  let firstDataEnd = 0;
  let moreData: Uint8Array[] | null = null;
  let retry: number | undefined;
  let comments: string[] | null = null;
  let lastEventId = '';
  let idAtBlockStart = '';
  let index = 0;

  // Full mode decodes the complete lines of each chunk at once and slices field values out of
  // that text: one decode per chunk instead of one per field, and string slices are cheap. The
  // cursor pairs a byte offset with the matching string index; the bytes between the cursor and
  // any line's value are ASCII (line ends, field names, ':' and ' '), so offsets carry over.
  let regionBuffer: Uint8Array | null = null;
  let regionText: string | null = null;
  let regionStart = 0;
  let regionAscii = false; // every byte of the region is ASCII: string index = byte offset - start
  let cursorByte = 0;
  let cursorChar = 0;

  function regionTextFrom(buffer: Uint8Array, start: number): string {
    if (regionText === null) {
      const lastLf = lastIndexOfByte(buffer, LF);
      const lastCr = lastIndexOfByte(buffer, CR);
      const regionEnd = Math.max(lastLf, lastCr) + 1;
      // As a large value: ASCII is copied as it is, other valid UTF-8 goes to the WebAssembly
      // decoder (about 3× faster than Node 20's own on text that is mostly ASCII), anything
      // else to TextDecoder. The region ends with a line end, so no character is cut off.
      regionText = decodeUtf8(buffer, start, regionEnd, 0, wasm);
      regionStart = start;
      regionAscii = regionText.length === regionEnd - start;
      cursorByte = start;
      cursorChar = 0;
    }
    return regionText;
  }

  // The text of buffer[valueStart, end) for a line starting at `start`.
  function textOf(buffer: Uint8Array, start: number, valueStart: number, end: number): string {
    if (buffer !== regionBuffer) return decodeUtf8(buffer, valueStart, end, largeValueBytes, wasm);
    const text = regionTextFrom(buffer, start);
    if (regionAscii) return text.slice(valueStart - regionStart, end - regionStart);
    const from = cursorChar + (valueStart - cursorByte);
    const to = text.indexOf(buffer[end] === LF ? '\n' : '\r', from);
    cursorByte = end;
    cursorChar = to;
    return text.slice(from, to);
  }

  // Moves the cursor past a line whose text is not needed (it may hold non-ASCII bytes).
  function skipText(buffer: Uint8Array, start: number, end: number): void {
    if (buffer !== regionBuffer || regionText === null || regionAscii) return;
    cursorChar = regionText.indexOf(
      buffer[end] === LF ? '\n' : '\r',
      cursorChar + (start - cursorByte),
    );
    cursorByte = end;
  }

  // Servers repeat a handful of event types: remember the last few (most recent first) so each
  // is decoded once. Plain arrays, not Uint8Arrays: allocating an ArrayBuffer per miss costs more.
  const typeCache: Array<{ bytes: number[]; text: string }> = [];
  let cachedTypeBytes: number[] = [];
  let cachedType = '';

  function isCachedType(buffer: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    const cached = cachedTypeBytes; // a local, so the loop does not reload the closure variable
    if (length !== cached.length) return false;
    let i = 0;
    while (i < length && buffer[start + i] === cached[i]) i++;
    return i === length;
  }

  function decodeType(buffer: Uint8Array, start: number, end: number): string {
    if (isCachedType(buffer, start, end)) return cachedType;
    let found = -1;
    for (let entry = 1; entry < typeCache.length && found === -1; entry++) {
      cachedTypeBytes = (typeCache[entry] as { bytes: number[] }).bytes;
      if (isCachedType(buffer, start, end)) found = entry;
    }
    let hit: { bytes: number[]; text: string };
    if (found === -1) {
      hit = {
        bytes: Array.from(buffer.subarray(start, end)),
        text: decodeUtf8(buffer, start, end),
      };
      if (typeCache.length === 8) typeCache.pop();
    } else {
      hit = typeCache.splice(found, 1)[0] as { bytes: number[]; text: string };
    }
    typeCache.unshift(hit);
    cachedTypeBytes = hit.bytes;
    cachedType = hit.text;
    return cachedType;
  }

  function clearEvent(): void {
    eventType = '';
    dataLines = 0;
    dataText = '';
    firstData = null;
    moreData = null;
    retry = undefined;
    comments = null;
  }

  function startBlock(at: number): void {
    blockStart = at;
    blockHasFields = false;
    idAtBlockStart = lastEventId;
    if (carry.length !== 0) clearCarry();
  }

  function reportTooLarge(): void {
    // The whole event is dropped, its id included, so the outcome does not depend on chunking.
    lastEventId = idAtBlockStart;
    onError?.(
      new ParseError({
        type: 'event-too-large',
        byteOffset: blockStart,
        eventIndex: index,
        message: `SSE event at byte ${blockStart} is larger than maxEventBytes (${maxEventBytes} bytes); it was dropped and parsing resumes after the next blank line. Raise maxEventBytes if such events are expected.`,
      }),
    );
  }

  // Reports the current event as too large, forgets it and skips to the next blank line.
  function dropOversizedEvent(): void {
    reportTooLarge();
    clearEvent();
    clearCarry();
    skipping = true;
  }

  function dispatch(end: number): void {
    if (end - blockStart > maxEventBytes) {
      reportTooLarge();
      clearEvent();
      startBlock(end);
      return;
    }
    if (dataLines === 0) {
      clearEvent();
      startBlock(end);
      return;
    }
    const type = eventType === '' ? 'message' : eventType;
    let event: ParsedEvent;
    if (framing) {
      event = new FramedEvent(
        type,
        lastEventId,
        comments ?? [],
        blockStart,
        end,
        index,
        firstData as Uint8Array,
        firstDataStart,
        firstDataEnd,
        moreData,
      );
    } else {
      event = {
        type,
        data: dataText,
        id: lastEventId,
        comments: comments ?? [],
        byteStart: blockStart,
        byteEnd: end,
        index,
      };
    }
    if (retry !== undefined) event.retry = retry;
    index += 1;
    clearEvent();
    startBlock(end);
    onEvent(event);
  }

  // Handles one complete line buffer[start, end); `next` is the absolute offset after its line end.
  function handleLine(buffer: Uint8Array, start: number, end: number, next: number): void {
    if (start === end) {
      if (crEnded) dispatchPending = true;
      else dispatch(next);
      return;
    }
    const first = buffer[start];
    if (first === COLON) {
      const valueStart = start + 1 < end && buffer[start + 1] === SPACE ? start + 2 : start + 1;
      const comment = textOf(buffer, start, valueStart, end);
      if (comments === null) comments = [comment];
      else comments.push(comment);
      onComment?.(comment);
      return;
    }
    blockHasFields = true;
    // Every field we act on has a name of at most 5 bytes, so look for the colon only that far.
    let nameEnd = end;
    const limit = Math.min(end, start + 6);
    for (let i = start + 1; i < limit; i++) {
      if (buffer[i] === COLON) {
        nameEnd = i;
        break;
      }
    }
    const nameLength = nameEnd - start;
    let valueStart = end;
    if (nameEnd < end) valueStart = buffer[nameEnd + 1] === SPACE ? nameEnd + 2 : nameEnd + 1;
    if (valueStart > end) valueStart = end;
    if (nameLength === 4) {
      if (
        first === 100 && // d
        buffer[start + 1] === 97 && // a
        buffer[start + 2] === 116 && // t
        buffer[start + 3] === 97 // a
      ) {
        if (!framing) {
          const value = textOf(buffer, start, valueStart, end);
          dataText = dataLines === 0 ? value : `${dataText}\n${value}`;
        } else if (dataLines === 0) {
          firstData = buffer;
          firstDataStart = valueStart;
          firstDataEnd = end;
        } else if (moreData === null) {
          moreData = [buffer.subarray(valueStart, end)];
        } else {
          moreData.push(buffer.subarray(valueStart, end));
        }
        dataLines += 1;
        return;
      }
    } else if (nameLength === 5) {
      if (
        first === 101 && // e
        buffer[start + 1] === 118 && // v
        buffer[start + 2] === 101 && // e
        buffer[start + 3] === 110 && // n
        buffer[start + 4] === 116 // t
      ) {
        eventType = valueStart === end ? '' : decodeType(buffer, valueStart, end);
        if (buffer === regionBuffer && regionText !== null) {
          cursorChar += valueStart - cursorByte + eventType.length;
          cursorByte = end;
        }
        return;
      } else if (
        first === 114 && // r
        buffer[start + 1] === 101 && // e
        buffer[start + 2] === 116 && // t
        buffer[start + 3] === 114 && // r
        buffer[start + 4] === 121 // y
      ) {
        if (handleRetry(buffer, valueStart, end)) return;
      }
    } else if (nameLength === 2) {
      if (first === 105 && buffer[start + 1] === 100) {
        // i d
        let hasNull = false;
        for (let i = valueStart; i < end; i++) {
          if (buffer[i] === NULL) {
            hasNull = true;
            break;
          }
        }
        if (!hasNull) {
          lastEventId = textOf(buffer, start, valueStart, end);
          return;
        }
      }
    }
    skipText(buffer, start, end);
  }

  // Applies a retry value if it is all ASCII digits; says whether it was.
  function handleRetry(buffer: Uint8Array, start: number, end: number): boolean {
    if (start === end) return false;
    let value = 0;
    for (let i = start; i < end; i++) {
      const digit = (buffer[i] as number) - 48;
      if (digit < 0 || digit > 9) return false;
      value = value * 10 + digit;
    }
    // Past 2^53 the running sum rounds differently from a correctly rounded parse.
    if (end - start > 15) value = Number.parseInt(decodeUtf8(buffer, start, end), 10);
    retry = value;
    onRetry?.(value);
    return true;
  }

  // Byte at absolute offset `at`, which lies in the carried bytes of the current block.
  function carriedByte(at: number): number | undefined {
    let position = at - blockStart;
    for (const part of carry) {
      if (position < part.length) return part[position];
      position -= part.length;
    }
    return undefined;
  }

  let joinScratch = new Uint8Array(1024);

  // The carried bytes from absolute offset `from` up to the current chunk, joined with `tail`.
  function joinCarried(from: number, tail: Uint8Array): Uint8Array {
    let skip = from - blockStart;
    const parts: Uint8Array[] = [];
    let length = 0;
    for (const part of carry) {
      if (skip >= part.length) {
        skip -= part.length;
        continue;
      }
      const piece = skip > 0 ? part.subarray(skip) : part;
      skip = 0;
      parts.push(piece);
      length += piece.length;
    }
    parts.push(tail);
    length += tail.length;
    // Framing mode may keep the line's bytes for a lazy `data`; full mode is done with them once
    // the line is handled, so it reuses one scratch buffer instead of allocating per line.
    if (framing) return concatBytes(parts, length);
    if (joinScratch.length < length)
      joinScratch = new Uint8Array(Math.max(length, 2 * joinScratch.length));
    let position = 0;
    for (const part of parts) {
      joinScratch.set(part, position);
      position += part.length;
    }
    return joinScratch.subarray(0, length);
  }

  function processChunk(buffer: Uint8Array): void {
    const length = buffer.length;
    const base = offset;
    offset += length;
    let position = 0;

    if (crEnded) {
      crEnded = false;
      if (buffer[0] === LF) {
        // The LF completes the CRLF that ended the last chunk; it belongs to that line end.
        position = 1;
        lineStart = base + 1;
        if (blockStart === base && !dispatchPending) blockStart = base + 1;
      }
      if (dispatchPending) {
        dispatchPending = false;
        dispatch(base + position);
      }
    }

    // One TextDecoder call per chunk pays off for big chunks; a small one (often a single event,
    // as a live stream arrives) is cheaper to decode value by value.
    if (!framing && length >= regionMinBytes) {
      regionBuffer = buffer;
      regionText = null;
    }
    let crIndex = indexOfByte(buffer, CR, position);
    while (position < length) {
      // Servers repeat "event: <same type>" line after line: recognise it without searching for
      // its line end. Anything unusual (a CR, the size limit, another type) takes the full path.
      if (
        buffer[position] === 101 && // e
        !skipping &&
        lineStart === base + position
      ) {
        const typeLength = cachedTypeBytes.length;
        const valueEnd = position + 7 + typeLength;
        if (
          typeLength !== 0 &&
          buffer[valueEnd] === LF &&
          (crIndex === -1 || crIndex > valueEnd) &&
          buffer[position + 1] === 118 && // v
          buffer[position + 2] === 101 && // e
          buffer[position + 3] === 110 && // n
          buffer[position + 4] === 116 && // t
          buffer[position + 5] === COLON &&
          buffer[position + 6] === SPACE &&
          base + valueEnd + 1 - blockStart <= maxEventBytes &&
          isCachedType(buffer, position + 7, valueEnd)
        ) {
          blockHasFields = true;
          eventType = cachedType;
          if (buffer === regionBuffer && regionText !== null) {
            cursorChar += position + 7 - cursorByte + cachedType.length;
            cursorByte = valueEnd;
          }
          position = valueEnd + 1;
          lineStart = base + position;
          continue;
        }
      }
      let lineEnd: number;
      let next: number;
      // A blank line right after a line end is common enough to skip the search for it.
      const lfIndex = buffer[position] === LF ? position : indexOfByte(buffer, LF, position);
      if (crIndex === -1 || (lfIndex !== -1 && lfIndex < crIndex)) {
        if (lfIndex === -1) break;
        lineEnd = lfIndex;
        next = lfIndex + 1;
      } else {
        lineEnd = crIndex;
        if (crIndex + 1 === length) {
          next = length;
          crEnded = true;
        } else {
          next = buffer[crIndex + 1] === LF ? crIndex + 2 : crIndex + 1;
        }
        crIndex = indexOfByte(buffer, CR, next);
      }
      const lineStartInChunk = lineStart - base;
      if (skipping) {
        if (lineStartInChunk === lineEnd) {
          skipping = false;
          startBlock(base + next);
          // Skipped lines did not move the text cursor: decode afresh from the next line.
          regionText = null;
        }
      } else if (base + lineEnd + 1 - blockStart > maxEventBytes && lineStartInChunk !== lineEnd) {
        // The event outgrew the limit within this line: drop it before reading the line, the
        // same point at which a chunk boundary inside the line would have dropped it. Only the
        // first byte of the line end counts here: whether a CR has an LF after it may not be
        // known yet, and the answer must not depend on where the chunks were split.
        dropOversizedEvent();
      } else if (lineStartInChunk >= 0) {
        handleLine(buffer, lineStartInChunk, lineEnd, base + next);
      } else {
        const line = joinCarried(lineStart, buffer.subarray(0, lineEnd));
        handleLine(line, 0, line.length, base + next);
      }
      lineStart = base + next;
      position = next;
    }
    regionBuffer = null;
    regionText = null;

    if (skipping) {
      // Nothing of a dropped event is kept; only where its lines start matters.
      blockStart = offset;
      return;
    }
    if (blockStart < offset) {
      const from = blockStart > base ? blockStart - base : 0;
      carryPush(from === 0 ? buffer : buffer.subarray(from));
      if (offset - blockStart > maxEventBytes && !dispatchPending) {
        dropOversizedEvent();
        blockStart = offset;
      }
    }
  }

  function feed(chunk: Uint8Array | string): void {
    let bytes: Uint8Array;
    if (typeof chunk === 'string') {
      let text = heldSurrogate + chunk;
      heldSurrogate = '';
      const last = text.charCodeAt(text.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        heldSurrogate = text.slice(-1);
        text = text.slice(0, -1);
      }
      bytes = textEncoder.encode(text);
    } else {
      if (heldSurrogate !== '') {
        const held = heldSurrogate;
        heldSurrogate = '';
        feed(textEncoder.encode(held));
      }
      bytes = chunk;
    }
    if (!bomChecked) {
      if (bomHeld !== null) {
        bytes = concatBytes([bomHeld, bytes]);
        bomHeld = null;
      }
      const checkable = Math.min(bytes.length, 3);
      let matches = true;
      for (let i = 0; i < checkable; i++) if (bytes[i] !== BOM[i]) matches = false;
      if (matches && checkable < 3) {
        bomHeld = bytes;
        return;
      }
      bomChecked = true;
      if (matches) {
        offset = 3;
        lineStart = 3;
        startBlock(3);
        bytes = bytes.subarray(3);
      }
    }
    if (bytes.length !== 0) processChunk(bytes);
  }

  function end(): void {
    if (heldSurrogate !== '') {
      const held = heldSurrogate;
      heldSurrogate = '';
      feed(textEncoder.encode(held));
    }
    if (bomHeld !== null) {
      const held = bomHeld;
      bomHeld = null;
      bomChecked = true;
      if (held.length !== 0) processChunk(held);
    }
    if (dispatchPending) {
      dispatchPending = false;
      crEnded = false;
      dispatch(offset);
    }
    if (!skipping && blockStart < offset) {
      const partialLine = lineStart < offset && carriedByte(lineStart) !== COLON;
      if (blockHasFields || partialLine) {
        onError?.(
          new ParseError({
            type: 'incomplete-event',
            byteOffset: blockStart,
            eventIndex: index,
            bytes: concatBytes(carry, carryBytes),
            message: `SSE stream ended in the middle of an event at byte ${blockStart} (${offset - blockStart} bytes not dispatched): an event only counts once the blank line after it arrives.`,
          }),
        );
      }
    }
    reset();
  }

  function reset(): void {
    offset = 0;
    bomChecked = false;
    bomHeld = null;
    heldSurrogate = '';
    crEnded = false;
    dispatchPending = false;
    skipping = false;
    lineStart = 0;
    lastEventId = '';
    index = 0;
    clearEvent();
    startBlock(0);
  }

  return {
    feed,
    end,
    reset,
    bufferedBytes: () => carryBytes + (bomHeld?.length ?? 0),
  };
}

// A framing-mode event: everything but `data` is computed up front; `data` is a getter on the
// prototype (an accessor per object literal costs more than parsing the event did) that decodes
// the chunk bytes the parser already holds, once, and then drops them.
class FramedEvent implements ParsedEvent {
  type: string;
  id: string;
  comments: string[];
  byteStart: number;
  byteEnd: number;
  index: number;
  declare retry?: number;
  #source: Uint8Array | null;
  #sourceStart: number;
  #sourceEnd: number;
  #rest: Uint8Array[] | null;
  #data = '';

  constructor(
    type: string,
    id: string,
    comments: string[],
    byteStart: number,
    byteEnd: number,
    index: number,
    source: Uint8Array,
    sourceStart: number,
    sourceEnd: number,
    rest: Uint8Array[] | null,
  ) {
    this.type = type;
    this.id = id;
    this.comments = comments;
    this.byteStart = byteStart;
    this.byteEnd = byteEnd;
    this.index = index;
    this.#source = source;
    this.#sourceStart = sourceStart;
    this.#sourceEnd = sourceEnd;
    this.#rest = rest;
  }

  get data(): string {
    if (this.#source !== null) {
      let data = decodeUtf8(this.#source, this.#sourceStart, this.#sourceEnd);
      if (this.#rest !== null)
        for (const part of this.#rest) data += `\n${decodeUtf8(part, 0, part.length)}`;
      this.#data = data;
      this.#source = null;
      this.#rest = null;
    }
    return this.#data;
  }

  // `data` lives on the prototype, so spell it out for JSON.stringify.
  toJSON(): ParsedEvent {
    const { type, data, id, retry, comments, byteStart, byteEnd, index } = this;
    return retry === undefined
      ? { type, data, id, comments, byteStart, byteEnd, index }
      : { type, data, id, retry, comments, byteStart, byteEnd, index };
  }
}

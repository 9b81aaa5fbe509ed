// @ts-check
// Event boundaries of an SSE byte stream, for the SQLite writer thread: the same framing as
// @tapedeck/sse's createParser (WHATWG rules; byte ranges from the block's first byte through the
// dispatching blank line; the BOM skipped; comment-only and data-less blocks dispatch nothing;
// events over the size limit dropped), without decoding `data`. Plain JavaScript because the
// worker loads it directly on Node 20; test/sse-framer.test.ts checks it against createParser.

const LF = 10;
// Node's Buffer search (memchr) on any Uint8Array: several times faster than
// Uint8Array.prototype.indexOf, which V8 runs element by element.
const indexOfByte = Buffer.prototype.indexOf;
const CR = 13;
const COLON = 58;
const SPACE = 32;
const BOM = [0xef, 0xbb, 0xbf];
const decoder = new TextDecoder();
/** Same default as @tapedeck/sse. */
export const FRAMER_MAX_EVENT_BYTES = 16 * 1024 * 1024;

/**
 * @typedef {{index: number; offsetMs: number; byteStart: number; byteEnd: number; type: string; id: string; retry?: number}} FramedEvent
 */

/**
 * `held[0, heldLength)` followed by `bytes[start, end)`, in `held` when it has room, otherwise
 * in a new buffer of twice the size.
 * @param {Uint8Array} held @param {number} heldLength @param {Uint8Array} bytes
 * @param {number} start @param {number} end
 */
function appendHeld(held, heldLength, bytes, start, end) {
  const needed = heldLength + end - start;
  let target = held;
  if (target.length < needed) {
    target = new Uint8Array(Math.max(64, needed * 2));
    target.set(held.subarray(0, heldLength));
  }
  target.set(bytes.subarray(start, end), heldLength);
  return target;
}

/**
 * The distinct strings of one take, numbered in order of appearance. Types and ids repeat from
 * event to event: the last one is compared first, then looked up.
 */
function createStringTable() {
  /** @type {string[]} */
  const values = [];
  /** @type {Map<string, number>} */
  const indexes = new Map();
  let last = '';
  let lastIndex = -1;
  return {
    values,
    /** @param {string} value */
    indexOf(value) {
      if (lastIndex !== -1 && value === last) return lastIndex;
      last = value;
      lastIndex = indexes.get(value) ?? -1;
      if (lastIndex === -1) {
        lastIndex = values.push(value) - 1;
        indexes.set(value, lastIndex);
      }
      return lastIndex;
    },
  };
}

/**
 * An incremental framer. `feed(bytes, offsetMs)` returns the events completed by those bytes,
 * stamped with `offsetMs`; `end(offsetMs)` returns an event whose final CR was the last byte.
 * @param {{maxEventBytes?: number}} [options]
 */
export function createFramer({ maxEventBytes = FRAMER_MAX_EVENT_BYTES } = {}) {
  let offset = 0; // absolute offset of the next byte
  let bomChecked = false;
  /** @type {Uint8Array | null} */
  let bomHeld = null;
  /** The start of a line that continues in the next chunk (a copy), `heldLength` bytes. */
  let held = new Uint8Array(0);
  let heldLength = 0;
  let crEnded = false;
  let dispatchPending = false;
  let blockStart = 0;
  let hasData = false;
  let eventType = '';
  /** @type {number | undefined} */
  let retry;
  let lastEventId = '';
  let idAtBlockStart = '';
  let index = 0;
  // Completed events, in parallel arrays until `takeCompact` or `take`: per event six numbers
  // (index, offsetMs, byteStart, byteEnd, retry or -1, 0 for no data), and its type and id in
  // `parts`. No object per event: the writer thread frames every event of every tape.
  let count = 0;
  // Grown when an event does not fit, to what the last take needed: a writer thread holds one
  // framer per tape being recorded, and most takes are small.
  let numbers = new Float64Array(0);
  let lastTakeCount = 0;
  /** @type {string[]} */
  let parts = [];
  let currentOffsetMs = 0;
  let dropped = 0;

  const startBlock = (/** @type {number} */ at) => {
    blockStart = at;
    hasData = false;
    eventType = '';
    retry = undefined;
    idAtBlockStart = lastEventId;
  };

  const dispatch = (/** @type {number} */ end) => {
    if (hasData) {
      if (end - blockStart > maxEventBytes) {
        lastEventId = idAtBlockStart;
        dropped += 1;
      } else {
        if (count * 6 === numbers.length) {
          const capacity = Math.max(16, lastTakeCount, count * 2);
          const grownNumbers = new Float64Array(capacity * 6);
          grownNumbers.set(numbers);
          numbers = grownNumbers;
        }
        const type = eventType === '' ? 'message' : eventType;
        const n = count * 6;
        numbers[n] = index;
        numbers[n + 1] = currentOffsetMs;
        numbers[n + 2] = blockStart;
        numbers[n + 3] = end;
        numbers[n + 4] = retry === undefined ? -1 : retry;
        numbers[n + 5] = 0;
        parts.push(type, lastEventId);
        count += 1;
        index += 1;
      }
    }
    startBlock(end);
  };

  // The fast path (see `process`): the last `event` line seen, LF included, and
  // its type. `offsetBase` and `lineIsDirect` (not put together from two chunks) describe the
  // line `handleLine` is given.
  /** @type {Uint8Array} */
  let eventLine = new Uint8Array(0);
  let eventLineType = '';
  let offsetBase = 0;
  let lineIsDirect = false;

  // The `event` and `id` values of a stream rarely change: the last bytes seen and their
  // decoded string are kept, so a repeated value is compared, not decoded again.
  /** @type {Uint8Array} */
  let typeBytes = new Uint8Array(0);
  let typeText = '';
  /** @type {Uint8Array} */
  let idBytes = new Uint8Array(0);
  let idText = '';

  /**
   * @param {Uint8Array} bytes @param {number} start @param {number} end @param {Uint8Array} cached
   */
  const sameBytes = (bytes, start, end, cached) => {
    if (end - start !== cached.length) return false;
    for (let i = 0; i < cached.length; i++) if (bytes[start + i] !== cached[i]) return false;
    return true;
  };

  /**
   * One line, `bytes[start, end)`, without its terminator; `next` is the absolute offset after
   * the terminator. Works on indices: a view per line cost more than the rest of the framing.
   * @param {Uint8Array} bytes @param {number} start @param {number} end @param {number} next
   */
  const handleLine = (bytes, start, end, next) => {
    const length = end - start;
    if (length === 0) {
      if (crEnded) dispatchPending = true;
      else dispatch(next);
      return;
    }
    // A field counts only when its whole name (up to the first colon, or the whole line) is
    // one of the four below.
    const first = bytes[start];
    let nameLength = 0;
    if (first === 100) {
      if (
        length >= 4 &&
        bytes[start + 1] === 97 &&
        bytes[start + 2] === 116 &&
        bytes[start + 3] === 97
      )
        nameLength = 4; // data
    } else if (first === 101) {
      if (
        length >= 5 &&
        bytes[start + 1] === 118 &&
        bytes[start + 2] === 101 &&
        bytes[start + 3] === 110 &&
        bytes[start + 4] === 116
      )
        nameLength = 5; // event
    } else if (first === 105) {
      if (length >= 2 && bytes[start + 1] === 100) nameLength = 2; // id
    } else if (first === 114) {
      if (
        length >= 5 &&
        bytes[start + 1] === 101 &&
        bytes[start + 2] === 116 &&
        bytes[start + 3] === 114 &&
        bytes[start + 4] === 121
      )
        nameLength = 5; // retry
    }
    if (nameLength === 0) return;
    const nameEnd = start + nameLength;
    if (nameEnd < end && bytes[nameEnd] !== COLON) return;
    if (first === 100) {
      hasData = true;
      return;
    }
    let valueStart = nameEnd < end ? nameEnd + 1 : end;
    if (valueStart < end && bytes[valueStart] === SPACE) valueStart += 1;
    if (first === 101) {
      if (!sameBytes(bytes, valueStart, end, typeBytes)) {
        typeBytes = bytes.slice(valueStart, end);
        typeText = decoder.decode(typeBytes);
      }
      eventType = typeText;
      // The line, ended by a lone LF, is the fast path's guess at the next block's first line
      // (it checks every byte before it relies on it).
      if (lineIsDirect && next - offsetBase === end + 1 && bytes[end] === LF) {
        if (!sameBytes(bytes, start, end + 1, eventLine)) eventLine = bytes.slice(start, end + 1);
        eventLineType = typeText;
      }
    } else if (first === 105) {
      // The cached id has no NUL; only a new one is checked for it (an id with NUL is ignored).
      if (!sameBytes(bytes, valueStart, end, idBytes)) {
        for (let i = valueStart; i < end; i++) if (bytes[i] === 0) return;
        idBytes = bytes.slice(valueStart, end);
        idText = decoder.decode(idBytes);
      }
      lastEventId = idText;
    } else {
      if (valueStart === end) return;
      for (let i = valueStart; i < end; i++) {
        const byte = /** @type {number} */ (bytes[i]);
        if (byte < 48 || byte > 57) return;
      }
      retry = Number(decoder.decode(bytes.subarray(valueStart, end)));
    }
  };

  /** @param {Uint8Array} bytes */
  const process = (bytes) => {
    const base = offset;
    let position = 0;
    if (crEnded) {
      crEnded = false;
      if (bytes[0] === LF) {
        position = 1;
      }
      if (dispatchPending) {
        dispatchPending = false;
        dispatch(base + position);
      }
    }
    // The next CR and LF are remembered: a stream that never uses one of them would otherwise
    // be rescanned to the end of the chunk for every line.
    let cr = -1;
    let lf = -1;
    const length = bytes.length;
    offsetBase = base;
    while (position < length) {
      if (cr < position) {
        cr = indexOfByte.call(bytes, CR, position);
        if (cr === -1) cr = length;
      }
      if (heldLength === 0 && blockStart === base + position) {
        // The usual block, `[<the cached event line>]data:<value>LF LF` with no CR, is taken
        // in one search for its data line's end: the same event the lines below would give.
        let p = position;
        let type = '';
        const cached = eventLine.length;
        if (cached > 0 && length - p > cached && sameBytes(bytes, p, p + cached, eventLine)) {
          p += cached;
          type = eventLineType;
        }
        if (
          bytes[p] === 100 &&
          bytes[p + 1] === 97 &&
          bytes[p + 2] === 116 &&
          bytes[p + 3] === 97 &&
          bytes[p + 4] === COLON
        ) {
          const dataEnd = indexOfByte.call(bytes, LF, p + 5);
          if (dataEnd !== -1 && bytes[dataEnd + 1] === LF && cr > dataEnd + 1) {
            eventType = type;
            hasData = true;
            dispatch(base + dataEnd + 2);
            position = dataEnd + 2;
            continue;
          }
        }
      }
      if (lf < position) {
        lf = indexOfByte.call(bytes, LF, position);
        if (lf === -1) lf = length;
      }
      const lineEnd = Math.min(lf, cr);
      if (lineEnd === length) {
        // The rest of a line continues in the next chunk: keep a copy, never a view, so the
        // caller may reuse its buffer.
        held = appendHeld(held, heldLength, bytes, position, length);
        heldLength += length - position;
        break;
      }
      let next;
      if (lineEnd === cr) {
        if (cr + 1 === length) {
          next = length;
          crEnded = true;
        } else {
          next = bytes[cr + 1] === LF ? cr + 2 : cr + 1;
        }
      } else {
        next = lf + 1;
      }
      if (heldLength > 0) {
        const line = appendHeld(held, heldLength, bytes, position, lineEnd);
        const lineLength = heldLength + lineEnd - position;
        heldLength = 0;
        lineIsDirect = false;
        handleLine(line, 0, lineLength, base + next);
      } else {
        lineIsDirect = true;
        handleLine(bytes, position, lineEnd, base + next);
      }
      position = next;
    }
    offset = base + length;
  };

  /** @param {Uint8Array} chunk @param {number} offsetMs */
  const add = (chunk, offsetMs) => {
    currentOffsetMs = offsetMs;
    let bytes = chunk;
    if (!bomChecked) {
      if (bomHeld !== null) {
        const joined = new Uint8Array(bomHeld.length + bytes.length);
        joined.set(bomHeld);
        joined.set(bytes, bomHeld.length);
        bytes = joined;
        bomHeld = null;
      }
      const checkable = Math.min(bytes.length, 3);
      let matches = true;
      for (let i = 0; i < checkable; i++) if (bytes[i] !== BOM[i]) matches = false;
      if (matches && checkable < 3) {
        bomHeld = bytes.slice();
        return;
      }
      bomChecked = true;
      if (matches) {
        offset = 3;
        startBlock(3);
        bytes = bytes.subarray(3);
      }
    }
    if (bytes.length > 0) process(bytes);
  };

  /** Empties the completed events, keeping the arrays' size for the next take's first event. */
  const reset = () => {
    lastTakeCount = count;
    numbers = new Float64Array(0);
    parts = [];
    count = 0;
  };

  /**
   * The events completed since the last take in the store's compact encoding (see
   * `CompactEvents` in sqlite-core.mjs): per event its arrival offset and first byte (float64)
   * and its length and the indexes of its type and id in `strings` (uint32), the retries
   * apart. The arrays are the caller's.
   */
  const takeCompact = () => {
    const firstIndex = count > 0 ? /** @type {number} */ (numbers[0]) : index;
    const places = new Float64Array(count * 2);
    const sizes = new Uint32Array(count * 3);
    const types = createStringTable();
    const ids = createStringTable();
    /** @type {Array<[number, number]>} */
    const retries = [];
    for (let i = 0; i < count; i++) {
      const n = i * 6;
      places[i * 2] = /** @type {number} */ (numbers[n + 1]);
      places[i * 2 + 1] = /** @type {number} */ (numbers[n + 2]);
      sizes[i * 3] =
        /** @type {number} */ (numbers[n + 3]) - /** @type {number} */ (numbers[n + 2]);
      sizes[i * 3 + 1] = types.indexOf(/** @type {string} */ (parts[i * 2]));
      sizes[i * 3 + 2] = ids.indexOf(/** @type {string} */ (parts[i * 2 + 1]));
      const retryValue = /** @type {number} */ (numbers[n + 4]);
      if (retryValue >= 0) retries.push([i, retryValue]);
    }
    const compact = {
      count,
      firstIndex,
      places,
      sizes,
      strings: JSON.stringify([types.values, ids.values, retries]),
    };
    reset();
    return compact;
  };

  return {
    /**
     * Frames `chunk`, stamping the events it completes with `offsetMs`, and returns every event
     * completed since the last `feed` or `take`.
     * @param {Uint8Array} chunk
     * @param {number} offsetMs
     * @returns {FramedEvent[]}
     */
    feed(chunk, offsetMs) {
      add(chunk, offsetMs);
      return this.take();
    },
    /**
     * Frames `chunk` like `feed` but keeps the events it completes for the next `take` (several
     * chunks, one array).
     * @param {Uint8Array} chunk
     * @param {number} offsetMs
     */
    add,
    /**
     * Ends the stream; an unterminated last event is not dispatched (as the spec says).
     * @param {number} offsetMs
     * @returns {FramedEvent[]}
     */
    end(offsetMs) {
      this.close(offsetMs);
      return this.take();
    },
    /**
     * Ends the stream like `end`, keeping what it completes for the next take.
     * @param {number} offsetMs
     */
    close(offsetMs) {
      currentOffsetMs = offsetMs;
      if (bomHeld !== null) {
        const start = bomHeld;
        bomHeld = null;
        bomChecked = true;
        if (start.length > 0) process(start);
      }
      if (dispatchPending) {
        dispatchPending = false;
        crEnded = false;
        dispatch(offset);
      }
    },
    /** @returns {FramedEvent[]} */
    take() {
      /** @type {FramedEvent[]} */
      const events = [];
      for (let i = 0; i < count; i++) {
        const n = i * 6;
        /** @type {FramedEvent} */
        const event = {
          index: /** @type {number} */ (numbers[n]),
          offsetMs: /** @type {number} */ (numbers[n + 1]),
          byteStart: /** @type {number} */ (numbers[n + 2]),
          byteEnd: /** @type {number} */ (numbers[n + 3]),
          type: /** @type {string} */ (parts[i * 2]),
          id: /** @type {string} */ (parts[i * 2 + 1]),
        };
        const retryValue = /** @type {number} */ (numbers[n + 4]);
        if (retryValue >= 0) event.retry = retryValue;
        events.push(event);
      }
      reset();
      return events;
    },
    takeCompact,
    /** Events dropped for exceeding the size limit so far. */
    dropped: () => dropped,
  };
}

// @ts-check
// Event boundaries of an SSE byte stream, for the SQLite writer thread: the same framing as
// @tapedeck/sse's createParser (WHATWG rules; byte ranges from the block's first byte through the
// dispatching blank line; the BOM skipped; comment-only and data-less blocks dispatch nothing;
// events over the size limit dropped), without decoding `data`. Plain JavaScript because the
// worker loads it directly on Node 20; test/sse-framer.test.ts checks it against createParser.

const LF = 10;
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
  /** @type {FramedEvent[]} */
  let out = [];
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
        /** @type {FramedEvent} */
        const event = {
          index,
          offsetMs: currentOffsetMs,
          byteStart: blockStart,
          byteEnd: end,
          type: eventType === '' ? 'message' : eventType,
          id: lastEventId,
        };
        if (retry !== undefined) event.retry = retry;
        out.push(event);
        index += 1;
      }
    }
    startBlock(end);
  };

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
    } else if (first === 105) {
      if (bytes.subarray(valueStart, end).indexOf(0) !== -1) return;
      if (!sameBytes(bytes, valueStart, end, idBytes)) {
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
    while (position < length) {
      if (lf < position) {
        lf = bytes.indexOf(LF, position);
        if (lf === -1) lf = length;
      }
      if (cr < position) {
        cr = bytes.indexOf(CR, position);
        if (cr === -1) cr = length;
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
        handleLine(line, 0, lineLength, base + next);
      } else {
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
      return this.take();
    },
    /** @returns {FramedEvent[]} */
    take() {
      const events = out;
      out = [];
      return events;
    },
    /** Events dropped for exceeding the size limit so far. */
    dropped: () => dropped,
  };
}

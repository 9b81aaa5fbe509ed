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
 * An incremental framer. `feed(bytes, offsetMs)` returns the events completed by those bytes,
 * stamped with `offsetMs`; `end(offsetMs)` returns an event whose final CR was the last byte.
 * @param {{maxEventBytes?: number}} [options]
 */
export function createFramer({ maxEventBytes = FRAMER_MAX_EVENT_BYTES } = {}) {
  let offset = 0; // absolute offset of the next byte
  let bomChecked = false;
  /** @type {Uint8Array | null} */
  let bomHeld = null;
  /** @type {Uint8Array[]} */
  let lineParts = [];
  let lineStart = 0;
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

  /** @param {Uint8Array} line @param {number} next */
  const handleLine = (line, next) => {
    if (line.length === 0) {
      if (crEnded) dispatchPending = true;
      else dispatch(next);
      return;
    }
    if (line[0] === COLON) return;
    let nameEnd = line.indexOf(COLON);
    if (nameEnd === -1) nameEnd = line.length;
    const nameLength = nameEnd - 0;
    if (nameLength !== 4 && nameLength !== 5 && nameLength !== 2) return;
    let valueStart = nameEnd < line.length ? nameEnd + 1 : line.length;
    if (valueStart < line.length && line[valueStart] === SPACE) valueStart += 1;
    const name = String.fromCharCode(...line.subarray(0, nameLength));
    if (name === 'data') {
      hasData = true;
    } else if (name === 'event') {
      eventType = decoder.decode(line.subarray(valueStart));
    } else if (name === 'id') {
      const value = line.subarray(valueStart);
      if (value.indexOf(0) === -1) lastEventId = decoder.decode(value);
    } else if (name === 'retry') {
      const value = line.subarray(valueStart);
      if (value.length > 0 && value.every((byte) => byte >= 48 && byte <= 57)) {
        retry = Number(decoder.decode(value));
      }
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
        lineStart = base + 1;
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
    while (position < bytes.length) {
      if (lf < position) {
        lf = bytes.indexOf(LF, position);
        if (lf === -1) lf = bytes.length;
      }
      if (cr < position) {
        cr = bytes.indexOf(CR, position);
        if (cr === -1) cr = bytes.length;
      }
      const lineEnd = Math.min(lf, cr);
      if (lineEnd === bytes.length) {
        lineParts.push(bytes.subarray(position));
        break;
      }
      let next;
      if (lineEnd === cr) {
        if (cr + 1 === bytes.length) {
          next = bytes.length;
          crEnded = true;
        } else {
          next = bytes[cr + 1] === LF ? cr + 2 : cr + 1;
        }
      } else {
        next = lf + 1;
      }
      let line = bytes.subarray(position, lineEnd);
      if (lineParts.length > 0) {
        lineParts.push(line);
        const joined = new Uint8Array(lineParts.reduce((sum, part) => sum + part.length, 0));
        let at = 0;
        for (const part of lineParts) {
          joined.set(part, at);
          at += part.length;
        }
        line = joined;
        lineParts = [];
      }
      handleLine(line, base + next);
      lineStart = base + next;
      position = next;
    }
    offset = base + bytes.length;
  };

  return {
    /**
     * @param {Uint8Array} chunk
     * @param {number} offsetMs
     * @returns {FramedEvent[]}
     */
    feed(chunk, offsetMs) {
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
          bomHeld = bytes;
          return this.take();
        }
        bomChecked = true;
        if (matches) {
          offset = 3;
          lineStart = 3;
          startBlock(3);
          bytes = bytes.subarray(3);
        }
      }
      if (bytes.length > 0) process(bytes);
      return this.take();
    },
    /**
     * Ends the stream; an unterminated last event is not dispatched (as the spec says).
     * @param {number} offsetMs
     * @returns {FramedEvent[]}
     */
    end(offsetMs) {
      currentOffsetMs = offsetMs;
      if (bomHeld !== null) {
        const held = bomHeld;
        bomHeld = null;
        bomChecked = true;
        if (held.length > 0) process(held);
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
    /** Bytes fed so far. */
    position: () => offset + (bomHeld?.length ?? 0),
    /** Where the current unfinished line starts (for tests). */
    lineStart: () => lineStart,
  };
}

// Byte helpers shared by the parser and the encoder. Node's Buffer methods are used when they
// exist because they are several times faster than their Uint8Array counterparts on small
// slices; they accept a plain Uint8Array as `this`, so no Buffer is ever allocated.

type IndexOf = (buffer: Uint8Array, value: number, fromIndex: number) => number;
type Decode = (buffer: Uint8Array, start: number, end: number) => string;

interface NodeBufferPrototype {
  indexOf(this: Uint8Array, value: number, fromIndex: number): number;
  lastIndexOf(this: Uint8Array, value: number): number;
  utf8Slice(this: Uint8Array, start: number, end: number): string;
}

const nodeBuffer = (globalThis as { Buffer?: { prototype: NodeBufferPrototype } }).Buffer;
const nodeIndexOf = nodeBuffer?.prototype.indexOf;
const nodeLastIndexOf = nodeBuffer?.prototype.lastIndexOf;
const nodeUtf8Slice = nodeBuffer?.prototype.utf8Slice;

// ignoreBOM: a U+FEFF at the start of a field value is content; only the stream's BOM is dropped.
const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** Index of `value` in `buffer` at or after `fromIndex`, or -1. */
export const indexOfByte: IndexOf = nodeIndexOf
  ? (buffer, value, fromIndex) => nodeIndexOf.call(buffer, value, fromIndex)
  : (buffer, value, fromIndex) => buffer.indexOf(value, fromIndex);

/** Index of the last `value` in `buffer`, or -1. */
export const lastIndexOfByte = nodeLastIndexOf
  ? (buffer: Uint8Array, value: number) => nodeLastIndexOf.call(buffer, value)
  : (buffer: Uint8Array, value: number) => buffer.lastIndexOf(value);

/**
 * UTF-8 decodes `buffer[start, end)` the way the WHATWG decoder does (invalid sequences become
 * U+FFFD; V8's decoder and TextDecoder agree on this, which the tests check).
 */
export const decodeUtf8: Decode = nodeUtf8Slice
  ? (buffer, start, end) => (start === end ? '' : nodeUtf8Slice.call(buffer, start, end))
  : (buffer, start, end) => (start === end ? '' : textDecoder.decode(buffer.subarray(start, end)));

/** A copy of `buffer[start, end)`, also for a Node Buffer (whose own `slice` makes a view). */
export function copyBytes(buffer: Uint8Array, start: number, end: number): Uint8Array {
  return Uint8Array.prototype.slice.call(buffer, start, end);
}

/** Joins byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[], totalLength?: number): Uint8Array {
  if (parts.length === 1 && parts[0]) return copyBytes(parts[0], 0, parts[0].length);
  let length = totalLength ?? 0;
  if (totalLength === undefined) for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let position = 0;
  for (const part of parts) {
    joined.set(part, position);
    position += part.length;
  }
  return joined;
}

// Byte helpers shared by the parser and the encoder. Node's Buffer methods are used when they
// exist because they are several times faster than their Uint8Array counterparts on small
// slices; they accept a plain Uint8Array as `this`, so no Buffer is ever allocated.

import { createWasmUtf8Decoder, type WasmUtf8Decoder } from './utf8-wasm.js';

type IndexOf = (buffer: Uint8Array, value: number, fromIndex: number) => number;

interface NodeBufferPrototype {
  indexOf(this: Uint8Array, value: number, fromIndex: number): number;
  lastIndexOf(this: Uint8Array, value: number): number;
  utf8Slice(this: Uint8Array, start: number, end: number): string;
  latin1Slice(this: Uint8Array, start: number, end: number): string;
}

const nodeBuffer = (globalThis as { Buffer?: { prototype: NodeBufferPrototype } }).Buffer;
const nodeIndexOf = nodeBuffer?.prototype.indexOf;
const nodeLastIndexOf = nodeBuffer?.prototype.lastIndexOf;
const nodeUtf8Slice = nodeBuffer?.prototype.utf8Slice;
const nodeLatin1Slice = nodeBuffer?.prototype.latin1Slice;
// `process.getBuiltinModule` (Node ≥ 20.16) instead of an import, so the module still loads
// where there is no node:buffer.
const nodeIsAscii = (
  globalThis as {
    process?: {
      getBuiltinModule?: (id: string) => { isAscii?: (view: Uint8Array) => boolean } | undefined;
    };
  }
).process?.getBuiltinModule?.('node:buffer')?.isAscii;

// ignoreBOM: a U+FEFF at the start of a field value is content; only the stream's BOM is dropped.
const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
// A second decoder, only ever called with `stream: true`: in Node 20 that takes ICU's path, which
// is faster on non-ASCII text than the non-streaming one (V8's decoder).
const streamingDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** The WebAssembly decoder, shared (it keeps no state between calls); `null` without one. */
export const wasmUtf8Decoder = createWasmUtf8Decoder();

/**
 * From this many bytes on, a value that is not all ASCII is decoded with the WebAssembly decoder
 * or TextDecoder rather than V8's decoder. V8's decoder costs little per call, copies ASCII at
 * memory speed and makes one-byte strings where it can, but decodes other text about half as fast
 * as TextDecoder's streaming path (and a third as fast as the WebAssembly one), which cost more
 * per call: they break even at a few hundred bytes of LLM-like text.
 */
export const LARGE_VALUE_BYTES = 256;

/** Index of `value` in `buffer` at or after `fromIndex`, or -1. */
export const indexOfByte: IndexOf = nodeIndexOf
  ? (buffer, value, fromIndex) => nodeIndexOf.call(buffer, value, fromIndex)
  : (buffer, value, fromIndex) => buffer.indexOf(value, fromIndex);

/** Index of the last `value` in `buffer`, or -1. */
export const lastIndexOfByte = nodeLastIndexOf
  ? (buffer: Uint8Array, value: number) => nodeLastIndexOf.call(buffer, value)
  : (buffer: Uint8Array, value: number) => buffer.lastIndexOf(value);

// Whether `buffer[start, end)` ends inside a multi-byte character that more bytes could still
// complete: a streaming decode would hold those bytes back for its next call.
function endsMidCharacter(buffer: Uint8Array, start: number, end: number): boolean {
  let at = end - 1;
  let continuations = 0;
  while (continuations < 3 && at > start && ((buffer[at] as number) & 0xc0) === 0x80) {
    at -= 1;
    continuations += 1;
  }
  const lead = buffer[at] as number;
  if (lead < 0xc0) return false;
  return continuations < (lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : 1);
}

/**
 * UTF-8 decodes `buffer[start, end)` the way the WHATWG decoder does (invalid sequences become
 * U+FFFD; V8's decoder and TextDecoder agree on this, which the tests check). Values of
 * `largeValueBytes` or more that are not all ASCII go to `wasm` (valid UTF-8 only) or else to
 * TextDecoder, the rest to V8's decoder.
 */
export function decodeUtf8(
  buffer: Uint8Array,
  start: number,
  end: number,
  largeValueBytes = LARGE_VALUE_BYTES,
  wasm: WasmUtf8Decoder | null = wasmUtf8Decoder,
): string {
  if (start === end) return '';
  if (nodeUtf8Slice === undefined) return textDecoder.decode(buffer.subarray(start, end));
  if (end - start < largeValueBytes) return nodeUtf8Slice.call(buffer, start, end);
  const view = buffer.subarray(start, end);
  if (nodeIsAscii?.(view))
    return (nodeLatin1Slice as NodeBufferPrototype['latin1Slice']).call(buffer, start, end);
  const decoded = wasm?.decode(buffer, start, end);
  if (decoded !== undefined) return decoded;
  // The streaming path never carries bytes into the next call here: a value that ends inside a
  // character (invalid UTF-8 at its end) takes the non-streaming path instead.
  if (endsMidCharacter(buffer, start, end)) return nodeUtf8Slice.call(buffer, start, end);
  return streamingDecoder.decode(view, { stream: true });
}

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

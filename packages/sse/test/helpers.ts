import {
  type CreateParserOptions,
  createParser,
  type ParsedEvent,
  type ParseError,
} from '../src/index.js';

/** Everything a parser reported for one stream, as plain data. */
export interface Collected {
  events: ParsedEvent[];
  comments: string[];
  retries: number[];
  errors: Array<{ type: string; code: string; byteOffset: number; bytes?: string }>;
}

const latin1 = new TextDecoder('latin1');

/** Feeds `chunks` to a fresh parser, calls end(), and returns what it reported. */
export function collect(
  chunks: Array<Uint8Array | string>,
  options: Partial<Omit<CreateParserOptions, 'onEvent'>> = {},
): Collected {
  const collected: Collected = { events: [], comments: [], retries: [], errors: [] };
  const parser = createParser({
    ...options,
    onEvent: (event) => collected.events.push({ ...event, data: event.data }),
    onComment: (comment) => collected.comments.push(comment),
    onRetry: (retryMs) => collected.retries.push(retryMs),
    onError: (error: ParseError) =>
      collected.errors.push({
        type: error.type,
        code: error.code,
        byteOffset: error.byteOffset,
        ...(error.bytes ? { bytes: latin1.decode(error.bytes) } : {}),
      }),
  });
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return collected;
}

/** A small seeded PRNG (mulberry32), so a failing split can be reproduced from its seed. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Splits `bytes` at random points (including empty pieces now and then). */
export function splitRandomly(bytes: Uint8Array, random: () => number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let position = 0;
  while (position < bytes.length) {
    const size = random() < 0.1 ? 0 : 1 + Math.floor(random() * 8);
    pieces.push(bytes.subarray(position, Math.min(bytes.length, position + size)));
    position += size;
  }
  return pieces;
}

/** Splits `bytes` at `points` (each taken modulo the length + 1, in any order; empty pieces kept). */
export function splitAtPoints(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const cuts = points.map((point) => point % (bytes.length + 1)).sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const cut of cuts) {
    pieces.push(bytes.subarray(start, cut));
    start = cut;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

/** Every single-byte piece of `bytes`. */
export function splitEveryByte(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
}

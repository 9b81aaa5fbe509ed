import { decodeUtf8 as decodeUtf8WithOptions } from './bytes.js';

/**
 * Decodes `bytes[start, end)` as UTF-8 (invalid sequences become U+FFFD), as the parser decodes
 * event fields: faster than `TextDecoder` for the short, mostly-ASCII values of LLM streams.
 */
export const decodeUtf8: (bytes: Uint8Array, start: number, end: number) => string =
  decodeUtf8WithOptions;
export type { EncodeEventInput } from './encode.js';
export { encodeEvent, encodeEventText } from './encode.js';
export type {
  CreateParserOptions,
  ParsedEvent,
  ParseErrorType,
  ParserMode,
  SseEvent,
  SseParser,
} from './parser.js';
export { createParser, DEFAULT_MAX_EVENT_BYTES, ParseError } from './parser.js';
export type { SseParserStreamOptions } from './streams.js';
export { SseEncoderStream, SseParserStream } from './streams.js';

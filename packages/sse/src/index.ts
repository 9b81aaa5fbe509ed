export { decodeUtf8 } from './bytes.js';
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

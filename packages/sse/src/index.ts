export type { EncodeEventInput } from './encode.js';
export { encodeEvent } from './encode.js';
export type {
  CreateParserOptions,
  ParsedEvent,
  ParseErrorType,
  ParserMode,
  SseParser,
} from './parser.js';
export { createParser, DEFAULT_MAX_EVENT_BYTES, ParseError } from './parser.js';

export type { TapedeckErrorCode, TapedeckErrorContext } from './errors.js';
export { TapedeckError } from './errors.js';
export type {
  DetectFamilyRequest,
  EventDataInput,
  EventDataProblem,
  KnownEventData,
  ParsedEventData,
  StreamInfo,
} from './parse-event.js';
export { DONE_SENTINEL, detectFamily, extractStreamInfo, parseEventData } from './parse-event.js';
export type { RequestHashInput, RequestHashOptions } from './request-hash.js';
export {
  canonicalJson,
  DEFAULT_IGNORED_BODY_FIELDS,
  normalizeUrl,
  requestHash,
} from './request-hash.js';
export type {
  TapeAppend,
  TapeFinish,
  TapeHead,
  TapeListQuery,
  TapeStore,
  TapeStoreStats,
} from './store.js';
export type {
  StreamFamily,
  Tape,
  TapeChunk,
  TapeEvent,
  TapeOutcome,
  TapeRequest,
  TapeResponse,
  TapeState,
  TapeSummary,
} from './tape.js';
export {
  spanIdSchema,
  streamFamilySchema,
  TAPE_SCHEMA_VERSION,
  tapeChunkSchema,
  tapeEventSchema,
  tapeOutcomeSchema,
  tapeRequestSchema,
  tapeResponseSchema,
  tapeSchema,
  tapeStateSchema,
  tapeSummarySchema,
  traceIdSchema,
} from './tape.js';

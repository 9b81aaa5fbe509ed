export type { TapedeckErrorCode, TapedeckErrorContext } from './errors.js';
export { TapedeckError } from './errors.js';
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

export { TAPE_SPAN_ATTRIBUTE } from './keys.js';
export { createMemoryStore } from './memory-store.js';
export type { Recorder, RecorderOptions, RecorderStats } from './recorder.js';
export { createRecorder } from './recorder.js';
export type { RedactOptions } from './redact.js';
export {
  isSensitiveName,
  REDACTED,
  redactHeaders,
  redactJsonBody,
  redactRequest,
  redactUrl,
} from './redact.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export { createSqliteStore } from './sqlite-store.js';

export { createMemoryStore } from './memory-store.js';
export { isSensitiveName, REDACTED, redactHeaders } from './redact.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export { createSqliteStore } from './sqlite-store.js';

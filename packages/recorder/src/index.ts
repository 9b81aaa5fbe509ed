export { isSensitiveName, REDACTED, redactHeaders } from './redact.js';

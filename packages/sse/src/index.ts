export type { EncodeEventInput } from './encode.js';
export { encodeEvent } from './encode.js';

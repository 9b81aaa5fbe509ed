export { jaegerTraceUrl } from './utils.js';

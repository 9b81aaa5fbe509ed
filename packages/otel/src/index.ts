export {
  instrumentFetch,
  instrumentStream,
  type TraceTapeResult,
  traceTape,
} from './instrumentation.js';
export {
  ATTR_OPPER_SPAN_ID,
  ATTR_TAPEDECK_DELTA_CHARACTERS,
  ATTR_TAPEDECK_DELTA_COUNT,
  ATTR_TAPEDECK_END_REASON,
  ATTR_TAPEDECK_EVENT_COUNT,
  ATTR_TAPEDECK_SPAN_EVENTS_DROPPED,
  ATTR_TAPEDECK_TAPE_SPAN_ID,
  ATTR_TAPEDECK_TERMINAL_EVENT_TYPE,
  EVENT_TAPEDECK_DELTA_BATCH,
  EVENT_TAPEDECK_STREAM_END,
} from './semconv.js';
export type {
  EndReason,
  InstrumentInternals,
  InstrumentOptions,
  InstrumentStreamOptions,
  SpanEventsMode,
  StreamEndInfo,
  StreamRequestInfo,
} from './types.js';
export { jaegerTraceUrl } from './utils.js';

export { createReplayHandlers, resolveMode, unmatchedResponse } from './handlers.js';
export type { TapeMatch, TapeMatcher } from './matching.js';
export { createTapeMatcher, TAPE_HEADER, toMatchableRequest } from './matching.js';
export type { PlannedPiece, ReplayPlan } from './plan.js';
export { planReplay } from './plan.js';
export { createReplayStream } from './replay-stream.js';
export type {
  CutFault,
  ErrorEventFault,
  FirstByteDelayFault,
  MatchableRequest,
  MatchRequestsBy,
  OnUnmatched,
  ReplayChunking,
  ReplayFault,
  ReplayFaults,
  ReplayInternal,
  ReplayMiss,
  ReplayMode,
  ReplayOptions,
  ReplayStreamOptions,
  ReplayTiming,
  StallFault,
  StatusFault,
} from './types.js';
